"""Turn the bot's 👍/👎 votes into a question set, so users' judgements are scored like any other.

Each line of the votes file is ``{"query", "paragraph": "doc#N", "vote": 1 | -1, "user",
"time"}``, "user" a keyed hash naming the voter. Only a voter's last vote on a (question,
paragraph) counts: a second 👍 adds nothing, a 👎 after a 👍 replaces it. Lines without
"user" (files from before voters were named) each count on their own. The votes that count
on one (question, paragraph) are summed: above zero the paragraph answers the question
(relevance 1); below zero it does not. A question with at least one 👍 paragraph
is an answerable question of the set; one with only 👎 votes tells which paragraphs do not
answer it, and is checked apart: is one of them still ranked first?
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from retrieval.eval.beir import Dataset, DatasetError, Query


@dataclass(frozen=True)
class Votes:
    """The judgements a votes file holds."""

    dataset: Dataset  # the questions with a 👍 paragraph, and those paragraphs as qrels
    rejected: dict[str, frozenset[str]]  # question text -> paragraphs voted 👎 (no 👍 at all)
    lines: int


def _records(path: Path) -> list[dict[str, object]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(
            f"the votes file {path} does not exist; give the bot's votes file (QABOT_FEEDBACK_FILE)"
        ) from None
    except OSError as exc:
        raise DatasetError(f"cannot read the votes file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise DatasetError(
            f"the votes file {path} is not UTF-8 text (byte {exc.start}); give the bot's votes file"
        ) from exc
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            query, paragraph, vote = record["query"], record["paragraph"], record["vote"]
        except (ValueError, KeyError, TypeError):
            raise DatasetError(
                f"{path} line {number} is not a vote: expected a JSON object with "
                '"query", "paragraph" and "vote"'
            ) from None
        if not isinstance(query, str) or not isinstance(paragraph, str) or vote not in (1, -1):
            raise DatasetError(f"{path} line {number}: vote must be 1 or -1, with text fields")
        if not isinstance(record.get("user", ""), str):
            raise DatasetError(f'{path} line {number}: "user" must be text, a voter hash')
        records.append(record)
    return records


def read_votes(path: Path) -> Votes:
    """Read a votes file into judgements.

    Raises:
        DatasetError: the file cannot be read, or a line is not a vote.
    """
    records = _records(path)
    # (question, paragraph, voter) -> that voter's last vote; a line without a voter is keyed
    # by its own position, so each such line stays a vote of its own.
    last: dict[tuple[str, str, str | int], int] = {}
    for position, record in enumerate(records):
        voter = record.get("user")
        who = voter if isinstance(voter, str) else position
        key = (str(record["query"]).strip(), str(record["paragraph"]), who)
        last[key] = int(record["vote"])  # type: ignore[call-overload]
    totals: dict[str, dict[str, int]] = {}
    for (query, paragraph, _), vote in last.items():
        per_query = totals.setdefault(query, {})
        per_query[paragraph] = per_query.get(paragraph, 0) + vote
    queries: list[Query] = []
    qrels: dict[str, dict[str, int]] = {}
    rejected: dict[str, frozenset[str]] = {}
    for text, per_paragraph in totals.items():
        good = {p: 1 for p, total in per_paragraph.items() if total > 0}
        if good:
            qid = f"vote{len(queries) + 1:04d}"
            queries.append(Query(qid, text))
            qrels[qid] = good
        else:
            bad = frozenset(p for p, total in per_paragraph.items() if total < 0)
            if bad:
                rejected[text] = bad
    dataset = Dataset(f"votes:{path.name}", path, {}, queries, qrels)
    return Votes(dataset, rejected, len(records))
