"""Search: rank paragraphs for a question (lexical, dense, fusion, re-ranking), confidence."""

from __future__ import annotations

from retrieval.search.candidates import Ranking, Retrieval
from retrieval.search.fusion import LEXICAL_WEIGHT, ranking_method
from retrieval.search.question import (
    MAX_QUESTION_CHARS,
    NoWordsError,
    NumberOnlyError,
    SmallTalkError,
    check_question,
    paragraph_number,
    small_talk,
)
from retrieval.search.refs import BadParagraphRef
from retrieval.search.searcher import (
    CANDIDATES,
    DEFAULT_METHOD,
    METHODS,
    Answer,
    Passage,
    Ranked,
    Searcher,
    check_method,
)

__all__ = [
    "CANDIDATES",
    "DEFAULT_METHOD",
    "LEXICAL_WEIGHT",
    "MAX_QUESTION_CHARS",
    "NoWordsError",
    "NumberOnlyError",
    "SmallTalkError",
    "METHODS",
    "Answer",
    "BadParagraphRef",
    "Passage",
    "Ranked",
    "Ranking",
    "Retrieval",
    "Searcher",
    "check_method",
    "check_question",
    "paragraph_number",
    "small_talk",
    "ranking_method",
]
