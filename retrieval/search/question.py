"""What makes a question usable: not empty, not only symbols, not small talk, not too long."""

from __future__ import annotations

import re

from retrieval.errors import QabotError, Remedy, UsageError
from retrieval.normalize import normalize
from retrieval.words import has_words

MAX_QUESTION_CHARS = 2000
_WORD_RUN = re.compile(r"[^\W_]+")
# Bytes that are not UTF-8 reach Python as lone surrogates (argv and stdin decode with
# surrogateescape: byte 0xff becomes U+DCFF); no text holds them, and they cannot be encoded.
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")


def _phrase_set(text: str) -> frozenset[str]:
    return frozenset(phrase.strip() for phrase in text.split("|"))


# Phrases that greet, thank or take leave: no corpus answers them, and the closest paragraph
# to "hi there" is only the closest in style. A message is small talk when it is made of
# them and nothing else (case, punctuation and emoji aside, Traditional as Simplified), so a
# question that merely starts with "hello" is still a question.
GREETINGS = _phrase_set(
    """hi|hello|hey|hiya|howdy|yo|greetings|hi there|hello there|hey there|hi all|hello all
    |good morning|good afternoon|good evening|good day|morning|evening|how are you
    |how are you doing|how is it going|how s it going|what s up|whats up|sup|nice to meet you
    |你好|您好|你们好|大家好|嗨|哈喽|哈啰|嘿|早|早上好|早安|上午好|中午好|下午好|晚上好|在吗
    |在不在|你好吗|你好呀|你好啊|您好啊|hello你好|hi你好"""
)
FAREWELLS = _phrase_set(
    """thanks|thank you|thanks a lot|thank you very much|thank you so much|thanks so much
    |many thanks|thx|ty|cheers|ok|okay|ok thanks|okay thanks|ok thank you|great|cool|nice
    |got it|bye|goodbye|good bye|bye bye|see you|good night|night
    |谢谢|谢谢你|谢谢您|谢谢啦|谢啦|多谢|感谢|非常感谢|太感谢了|辛苦了|好的|好|嗯|嗯嗯|哦|噢
    |收到|明白了|知道了|再见|拜拜|晚安"""
)
_LONGEST_PHRASE = max(len(p.split()) for p in GREETINGS | FAREWELLS)
# Small talk is short: a longer message is a question, whatever it starts with.
MAX_SMALL_TALK_CHARS = 60
MAX_SMALL_TALK_WORDS = 10


class NoWordsError(UsageError):
    """A question with no words at all (emoji, punctuation): nothing to look for."""


class NotTextError(UsageError):
    """A question holding bytes that are not UTF-8 text (a file or terminal in another encoding)."""


class SmallTalkError(UsageError):
    """A greeting, thanks or goodbye rather than a question; data["kind"] says which."""


def small_talk(text: str) -> str | None:
    """Return "greeting" or "farewell" if the whole message is small talk, else None.

    The message may string several phrases together (`hi, thanks!`, `谢谢，再见`); a greeting
    among them makes it a greeting.
    """
    if len(text) > MAX_SMALL_TALK_CHARS:
        return None
    words = _WORD_RUN.findall(normalize(text).lower())
    phrases = _phrases(words) if len(words) <= MAX_SMALL_TALK_WORDS else None
    if not phrases:
        return None
    return "greeting" if any(p in GREETINGS for p in phrases) else "farewell"


def _phrases(words: list[str]) -> list[str] | None:
    """Split words into small-talk phrases, longest first, or return None if they are not."""
    if not words:
        return None
    for end in range(min(len(words), _LONGEST_PHRASE), 0, -1):
        head = " ".join(words[:end])
        if head in GREETINGS or head in FAREWELLS:
            rest = _phrases(words[end:]) if end < len(words) else []
            if rest is not None:
                return [head, *rest]
    return None


def check_question(query: str) -> str:
    """Return the question stripped, or raise a one-line error for an unusable one."""
    bad = _SURROGATE.search(query)
    if bad is not None:
        raise NotTextError(
            f"the question holds bytes that could not be read as text "
            f"({_shown(query, bad.start())}); type it again, or convert it to UTF-8"
        )
    text = query.strip()
    if not text:
        raise QabotError("the question is empty", remedy=Remedy.ASK_QUESTION)
    if not has_words(text):
        # Emoji and punctuation alone would still find "closest" paragraphs: say so instead.
        raise NoWordsError(
            f"the question {text[:20]!r} has no words to look for", remedy=Remedy.ASK_QUESTION
        )
    if len(text) > MAX_QUESTION_CHARS:
        raise QabotError(
            f"the question is {len(text)} characters long; ask in at most "
            f"{MAX_QUESTION_CHARS} characters"
        )
    kind = small_talk(text)
    if kind is not None:
        raise SmallTalkError(
            f"{text[:20]!r} is small talk, not a question about the corpus",
            remedy=Remedy.ASK_QUESTION,
            data={"kind": kind},
        )
    return text


def _shown(text: str, start: int) -> str:
    """Show the bytes that were not UTF-8 from `start` on as \\xff escapes, and where they are."""
    escaped = _ESCAPED_BYTES.match(text, start)
    if escaped is None:  # a lone surrogate from elsewhere (a JSON escape), not from bytes
        return f"at character {start + 1}"
    raw = escaped.group().encode("utf-8", "surrogateescape")[:8]
    return "".join(f"\\x{byte:02x}" for byte in raw) + f" at character {start + 1}"
