"""Tests for retrieval.eval.feedback and `qabot eval --feedback`: votes scored as judgements."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.telegram.feedback import vote_record
from retrieval.eval.beir import DatasetError
from retrieval.eval.feedback import read_votes

DOC = "shanxi-taiyuan-news-2023-08-30"
SHOWS = "今年计划免费送戏下乡多少场？"


def _votes(path: Path, *votes: tuple[str, str, int]) -> Path:
    path.write_text("".join(vote_record(q, p, v) + "\n" for q, p, v in votes), encoding="utf-8")
    return path


def _voted(path: Path, *votes: tuple[str, str, str, int]) -> Path:
    """Write votes as the bot writes them, each with its voter's hash: (voter, q, p, vote)."""
    lines = (vote_record(q, p, v, voter=f"{who:0>16}") + "\n" for who, q, p, v in votes)
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_votes_are_summed_per_question_and_paragraph(tmp_path: Path) -> None:
    votes = read_votes(
        _votes(
            tmp_path / "votes.jsonl",
            (SHOWS, f"{DOC}#16", 1),
            (SHOWS, f"{DOC}#16", 1),
            (SHOWS, f"{DOC}#17", -1),
            (SHOWS, f"{DOC}#15", 1),
            (SHOWS, f"{DOC}#15", -1),  # one up, one down: no judgement
            ("青年路停水", f"{DOC}#49", -1),
        )
    )
    assert votes.lines == 6
    assert [q.text for q in votes.dataset.queries] == [SHOWS]
    assert votes.dataset.qrels == {votes.dataset.queries[0].id: {f"{DOC}#16": 1}}
    assert votes.rejected == {"青年路停水": frozenset({f"{DOC}#49"})}


def test_a_voters_second_thumbs_up_counts_once(tmp_path: Path) -> None:
    votes = read_votes(
        _voted(
            tmp_path / "votes.jsonl",
            ("a", SHOWS, f"{DOC}#16", 1),
            ("a", f" {SHOWS} ", f"{DOC}#16", 1),  # the same question, tapped again
            ("b", SHOWS, f"{DOC}#16", -1),  # one 👍 and one 👎: no judgement
        )
    )
    assert votes.lines == 3
    assert votes.dataset.queries == [] and votes.rejected == {}


def test_a_voters_last_vote_replaces_their_earlier_one(tmp_path: Path) -> None:
    votes = read_votes(
        _voted(
            tmp_path / "votes.jsonl",
            ("a", SHOWS, f"{DOC}#16", 1),
            ("a", SHOWS, f"{DOC}#17", 1),
            ("a", SHOWS, f"{DOC}#16", -1),  # changed their mind about #16
            ("a", "青年路停水", f"{DOC}#49", 1),
            ("a", "青年路停水", f"{DOC}#49", -1),
        )
    )
    assert votes.dataset.qrels == {votes.dataset.queries[0].id: {f"{DOC}#17": 1}}
    assert votes.rejected == {"青年路停水": frozenset({f"{DOC}#49"})}


def test_the_votes_of_different_voters_all_count(tmp_path: Path) -> None:
    votes = read_votes(
        _voted(
            tmp_path / "votes.jsonl",
            ("a", SHOWS, f"{DOC}#16", 1),
            ("b", SHOWS, f"{DOC}#16", 1),
            ("c", SHOWS, f"{DOC}#16", -1),
            ("c", SHOWS, f"{DOC}#16", -1),
            ("c", SHOWS, f"{DOC}#16", -1),  # three taps of one voter: one 👎 against two 👍
        )
    )
    assert votes.dataset.qrels == {votes.dataset.queries[0].id: {f"{DOC}#16": 1}}


def test_a_file_from_before_voters_were_named_reads_as_it_did(tmp_path: Path) -> None:
    # Lines as versions before "user" wrote them: each one counts, repeated or not.
    old = [(SHOWS, f"{DOC}#16", 1), (SHOWS, f"{DOC}#16", 1), (SHOWS, f"{DOC}#16", -1)]
    path = tmp_path / "votes.jsonl"
    path.write_text(
        "".join(
            json.dumps({"query": q, "paragraph": p, "vote": v, "time": "2024-05-01T08:30:00+00:00"})
            + "\n"
            for q, p, v in [*old, ("青年路停水", f"{DOC}#49", -1), ("青年路停水", f"{DOC}#49", 1)]
        ),
        encoding="utf-8",
    )
    votes = read_votes(path)
    assert votes.lines == 5
    assert [q.text for q in votes.dataset.queries] == [SHOWS]
    assert votes.dataset.qrels == {"vote0001": {f"{DOC}#16": 1}}
    assert votes.rejected == {}
    # Votes the bot adds later, with voters, count next to the old ones.
    with path.open("a", encoding="utf-8") as fh:
        for _ in range(3):
            fh.write(vote_record(SHOWS, f"{DOC}#16", -1, voter="0123456789abcdef") + "\n")
    later = read_votes(path)  # 1 + 1 - 1 from the old lines, -1 once from the new: zero
    assert later.dataset.queries == [] and later.rejected == {}


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        json.dumps({"query": "q", "paragraph": "d#1"}),
        '{"query": "q", "paragraph": "d#1", "vote": 5}',
        '{"query": "q", "paragraph": "d#1", "vote": 1, "user": 734561298}',
    ],
)
def test_a_line_that_is_not_a_vote_is_a_one_line_error(tmp_path: Path, line: str) -> None:
    path = tmp_path / "votes.jsonl"
    path.write_text(vote_record(SHOWS, f"{DOC}#16", 1) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"votes.jsonl line 2"):
        read_votes(path)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("none.jsonl", "error: the votes file {} does not exist; give the bot's votes file"),
        ("", "error: cannot read the votes file {}: Is a directory"),
    ],
)
def test_a_votes_file_that_cannot_be_read_exits_1_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, message: str
) -> None:
    path = tmp_path / name
    assert main(["eval", "--feedback", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(message.format(path)), err


@pytest.mark.slow
def test_eval_scores_votes_like_any_question_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _votes(
        tmp_path / "votes.jsonl",
        (SHOWS, f"{DOC}#16", 1),
        ("迎泽大街什么时候停水？", f"{DOC}#999", 1),  # a paragraph the corpus does not have
        ("青年路什么时候停水", f"{DOC}#50", -1),
    )
    assert main(["eval", "--feedback", str(path), "--methods", "hybrid"]) == 0
    out = capsys.readouterr().out
    assert "votes:votes.jsonl: 1 answerable questions" in out
    assert "3 votes: 1 questions with a 👍 paragraph" in out
    assert "1 👍 paragraphs are no longer in the corpus: left out" in out
    assert "1 questions with only 👎 votes: a 👎 paragraph is still first for 1" in out
    assert main(["eval", "--feedback", str(path), "--methods", "hybrid", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["methods"]["hybrid"]["R@1"] == 1.0
