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
# A paragraph number alone, as citations write it (§12, § 12, #12, ¶12) or bare and short (12):
# no question, and the passages holding "12" would come back as confident answers to nothing.
# A longer number (2023, 12345, 0351-1234567) is searched: looking up where it appears is a use.
_PARAGRAPH_NUMBER = re.compile(r"(?:[§#¶]\s*0*([1-9]\d{0,5})|0*([1-9]\d{0,2}))\s*[。.?？]?")


def _phrase_set(text: str) -> frozenset[str]:
    return frozenset(phrase.strip() for phrase in text.split("|"))


# Phrases that greet, ask how to use the bot, thank, take leave or acknowledge: no corpus
# answers them, and the closest paragraph to "hi there" is only the closest in style. A message
# is small talk when it is made of them and nothing else (case, punctuation and emoji aside,
# Traditional as Simplified), so a question that merely starts with "hello" is still a question.
GREETINGS = _phrase_set(
    """hi|hello|hey|hiya|howdy|yo|greetings|hi there|hello there|hey there|hi all|hello all
    |good morning|good afternoon|good evening|good day|morning|evening|how are you
    |how are you doing|how is it going|how s it going|what s up|whats up|sup|nice to meet you
    |你好|您好|你们好|大家好|嗨|哈喽|哈啰|嘿|早|早上好|早安|上午好|中午好|下午好|晚上好|在吗
    |在不在|你好吗|你好呀|你好啊|您好啊|hello你好|hi你好"""
)
# Asking what the bot is or how to use it: answered with what qabot does, not a paragraph
# (the closest one to "怎么用" is about how a budget is used).
HELP_REQUESTS = _phrase_set(
    """help|help me|usage|how to use|how to use this|how do i use this|how do i use it
    |how does this work|how does it work|what can you do|what do you do|who are you
    |what are you|what is this|instructions
    |帮助|求助|帮忙|帮帮我|怎么用|如何使用|怎么使用|怎样使用|用法|使用方法|使用说明|说明
    |怎么提问|如何提问|怎么问|你是谁|你能做什么|你可以做什么|你会什么|你会做什么|你是干什么的
    |这是什么"""
)
THANKS = _phrase_set(
    """thanks|thank you|thanks a lot|thank you very much|thank you so much|thanks so much
    |many thanks|thx|ty|cheers|thanks for the answer|thanks for your answer
    |thank you for the answer|thank you for your answer|thanks for the help
    |thanks for your help|thank you for your help|thank you for the help
    |谢谢|谢谢你|谢谢您|谢谢啦|谢啦|多谢|感谢|非常感谢|太感谢了|辛苦了|谢谢回答|谢谢解答
    |谢谢帮助|谢谢你的回答|谢谢您的回答|谢谢你的解答|谢谢您的解答|谢谢你的帮助|谢谢您的帮助
    |感谢你的回答|感谢您的回答|感谢你的帮助|感谢您的帮助|多谢你的回答"""
)
FAREWELLS = _phrase_set(
    """bye|goodbye|good bye|bye bye|see you|see you later|good night|night
    |再见|拜拜|晚安|回头见"""
)
# Saying "understood": neither thanks (which "不客气" would answer) nor a question.
ACKNOWLEDGEMENTS = _phrase_set(
    """ok|okay|great|cool|nice|got it|i see|alright|all right|fine
    |好的|好|好吧|行|嗯|嗯嗯|哦|噢|喔|收到|明白了|明白|知道了|了解|懂了"""
)
# Which kind a message of several phrases is (`hi, thanks!` greets; `ok thanks, bye` thanks).
SMALL_TALK = {
    "greeting": GREETINGS,
    "help": HELP_REQUESTS,
    "thanks": THANKS,
    "farewell": FAREWELLS,
    "acknowledgement": ACKNOWLEDGEMENTS,
}
_ALL_PHRASES = frozenset().union(*SMALL_TALK.values())
_LONGEST_PHRASE = max(len(p.split()) for p in _ALL_PHRASES)
# "?" or "/?" alone: how people ask a program for help.
_HELP_MARK = re.compile(r"/?[?？]+")
# Small talk is short: a longer message is a question, whatever it starts with.
MAX_SMALL_TALK_CHARS = 60
MAX_SMALL_TALK_WORDS = 10
# What the CLI says about each kind: what it was, and what qabot does instead.
_SMALL_TALK_PROBLEM = {
    "help": "{text!r} asks how to use qabot: it answers questions about the corpus with the "
    "paragraphs that answer them",
}
_SMALL_TALK_DEFAULT = "{text!r} is small talk, not a question about the corpus"


class NoWordsError(UsageError):
    """A question with no words at all (emoji, punctuation): nothing to look for."""


class NumberOnlyError(UsageError):
    """A question that is only a paragraph number (`12`, `§12` copied from a citation): no
    words to look for. data["number"] is the number, for the way to read that paragraph."""


class NotTextError(UsageError):
    """A question holding bytes that are not UTF-8 text (a file or terminal in another encoding)."""


class SmallTalkError(UsageError):
    """Small talk or a request for help rather than a question; data["kind"] says which."""


def small_talk(text: str) -> str | None:
    """Return the kind of small talk the whole message is (a key of SMALL_TALK), else None.

    The message may string several phrases together (`hi, thanks!`, `谢谢，再见`); the kind
    is the first of SMALL_TALK's order among them, so a greeting among them makes it a greeting.
    """
    if len(text) > MAX_SMALL_TALK_CHARS:
        return None
    if _HELP_MARK.fullmatch(text.strip()):
        return "help"
    words = _WORD_RUN.findall(normalize(text).lower())
    phrases = _phrases(words) if len(words) <= MAX_SMALL_TALK_WORDS else None
    if not phrases:
        return None
    return next(kind for kind, known in SMALL_TALK.items() if any(p in known for p in phrases))


def _phrases(words: list[str]) -> list[str] | None:
    """Split words into small-talk phrases, longest first, or return None if they are not."""
    if not words:
        return None
    for end in range(min(len(words), _LONGEST_PHRASE), 0, -1):
        head = " ".join(words[:end])
        if head in _ALL_PHRASES:
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
    kind = small_talk(text)
    if kind is None and not has_words(text):
        # Emoji and punctuation alone would still find "closest" paragraphs: say so instead.
        raise NoWordsError(
            f"the question {text[:20]!r} has no words to look for", remedy=Remedy.ASK_QUESTION
        )
    number = paragraph_number(text) if kind is None else None
    if number is not None:
        raise NumberOnlyError(
            f"the question {text[:20]!r} is only a number, with no words to look for",
            remedy=Remedy.SHOW_PARAGRAPH,
            data={"number": number},
        )
    if len(text) > MAX_QUESTION_CHARS:
        raise QabotError(
            f"the question is {len(text)} characters long; ask in at most "
            f"{MAX_QUESTION_CHARS} characters"
        )
    if kind is not None:
        problem = _SMALL_TALK_PROBLEM.get(kind, _SMALL_TALK_DEFAULT)
        raise SmallTalkError(
            problem.format(text=text[:20]), remedy=Remedy.ASK_QUESTION, data={"kind": kind}
        )
    return text


def paragraph_number(text: str) -> str | None:
    """Return the number if the whole text is a paragraph number (`12`, `§12`, `#7？`)."""
    found = _PARAGRAPH_NUMBER.fullmatch(normalize(text).strip())
    return str(int(found.group(1) or found.group(2))) if found else None


def _shown(text: str, start: int) -> str:
    """Show the bytes that were not UTF-8 from `start` on as \\xff escapes, and where they are."""
    escaped = _ESCAPED_BYTES.match(text, start)
    if escaped is None:  # a lone surrogate from elsewhere (a JSON escape), not from bytes
        return f"at character {start + 1}"
    raw = escaped.group().encode("utf-8", "surrogateescape")[:8]
    return "".join(f"\\x{byte:02x}" for byte in raw) + f" at character {start + 1}"
