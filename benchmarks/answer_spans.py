"""Measure the answers picked out of passages (retrieval/search/answers.py).

    python benchmarks/answer_spans.py --split train|dev          # the reader's training data
    python benchmarks/answer_spans.py --beir ../shared/datasets/cmrc2018-dev

For each question that asks for a kind search/asks.py knows, against its own (gold) paragraph:
how often an answer is shown, and how often a shown answer is right. Sources:
- `--split`: the reading-comprehension data the reader trains on (training/data.py: CMRC 2018
  train, trial and DRCD dev, SQuAD format); the rules were written on `train`, `dev` (CMRC
  2018 trial and a tenth of DRCD) is held out. Right: it overlaps the gold answer span, or
  gives its figures.
- `--beir DIR`: a BEIR set with `answers.jsonl` (cmrc2018-dev: nobody here wrote it, and the
  rules were not written on it). Right: it holds a gold answer or sits inside one, or gives
  its figures (there are no offsets).
- `--questions FILE`: questions about the bundled page with the answers expected, one per line
  (`question<TAB>paragraph number<TAB>answer|other form`): benchmarks/data/answer_questions.tsv,
  128 questions written here to probe it (second and third figures of a paragraph, changes,
  lists, Traditional Chinese). Right as for `--beir`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retrieval.search.answers import EXPRESSIONS, answer_span  # noqa: E402
from retrieval.search.asks import asked_kinds  # noqa: E402
from training.data import DATA_DIR, load_split  # noqa: E402

PAGE = "shanxi-taiyuan-news-2023-08-30.md"
FIGURES = re.compile(r"[0-9零〇一二两三四五六七八九十百千万亿]+(?:[.,][0-9]+)*")


@dataclass(frozen=True)
class Case:
    """A question, its paragraph, and its gold answers (with the first one's offsets if known)."""

    question: str
    paragraph: str
    answers: tuple[str, ...]
    start: int | None = None


def split_cases(split: str, data_dir: Path) -> Iterator[Case]:
    paragraphs, questions = load_split(data_dir)[split]
    for q in questions:
        yield Case(q.text, paragraphs[q.paragraph].text, (q.answer,), q.answer_start)


def beir_cases(folder: Path) -> Iterator[Case]:
    def lines(name: str) -> Iterator[dict[str, object]]:
        with open(folder / name, encoding="utf-8") as handle:
            yield from (json.loads(line) for line in handle if line.strip())

    corpus = {str(d["_id"]): str(d["text"]) for d in lines("corpus.jsonl")}
    answers = {str(d["_id"]): tuple(map(str, d["answers"])) for d in lines("answers.jsonl")}  # type: ignore[call-overload]
    gold: dict[str, str] = {}
    for line in (folder / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        qid, pid, *_ = line.split("\t")
        gold.setdefault(qid, pid)
    for q in lines("queries.jsonl"):
        qid = str(q["_id"])
        if qid in gold and gold[qid] in corpus and answers.get(qid):
            yield Case(str(q["text"]), corpus[gold[qid]], answers[qid])


def page_cases(path: Path) -> Iterator[Case]:
    from retrieval.config import BUNDLED_CORPUS
    from retrieval.ingest import load_documents

    documents, _ = load_documents([BUNDLED_CORPUS / PAGE])
    texts = {p.number: p.text for d in documents for p in d.paragraphs}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            question, number, answers = line.split("\t")
            yield Case(question, texts[int(number)], tuple(answers.split("|")))


def is_right(case: Case, span: tuple[int, int]) -> bool:
    """Right: overlapping the gold span, holding or inside a gold answer, or its figures
    (`3年` said twice, `220多公里` for `220公里`, `五项` for `五个指标`)."""
    shown = case.paragraph[span[0] : span[1]]
    if case.start is not None:
        if span[0] < case.start + len(case.answers[0]) and case.start < span[1]:
            return True
    elif any(a in shown or (len(shown) >= 2 and shown in a) for a in case.answers):
        return True
    shown_figures = set(FIGURES.findall(shown))
    return any(
        (figures := set(FIGURES.findall(a))) and figures <= shown_figures for a in case.answers
    )


def measure(cases: Iterable[Case], show: int) -> dict[str, object]:
    asked: Counter[str] = Counter()
    shown: Counter[str] = Counter()
    right: Counter[str] = Counter()
    questions = 0
    wrong: list[str] = []
    for case in cases:
        questions += 1
        kinds = tuple(k for k in asked_kinds(case.question) if k.name in EXPRESSIONS)
        if not kinds:
            continue
        kind = next((k for k in kinds if k.decisive), kinds[0]).name
        asked[kind] += 1
        span = answer_span(case.question, case.paragraph)
        if span is None:
            continue
        shown[kind] += 1
        if is_right(case, span):
            right[kind] += 1
        elif len(wrong) < show:
            text = case.paragraph[span[0] : span[1]]
            wrong.append(f"{case.question} | gold {case.answers[0]!r} | shown {text!r}")
    total = {k: sum(c.values()) for k, c in (("asked", asked), ("shown", shown), ("right", right))}
    return {
        "questions": questions,
        **total,
        "shown_share": round(total["shown"] / max(1, total["asked"]), 3),
        "precision": round(total["right"] / max(1, total["shown"]), 3),
        "by_kind": {k: [asked[k], shown[k], right[k]] for k in sorted(asked)},
        "wrong": wrong,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="the SQuAD-format files")
    parser.add_argument("--split", choices=("train", "dev"), default="dev")
    parser.add_argument("--beir", type=Path, help="a BEIR folder with answers.jsonl instead")
    parser.add_argument("--questions", type=Path, help="a file of questions about the page")
    parser.add_argument("--wrong", type=int, default=0, help="list this many wrong answers")
    args = parser.parse_args()
    if args.questions:
        cases, source = page_cases(args.questions), str(args.questions)
    elif args.beir:
        cases, source = beir_cases(args.beir), str(args.beir)
    else:
        cases, source = split_cases(args.split, args.data), args.split
    print(
        json.dumps({"source": source, **measure(cases, args.wrong)}, ensure_ascii=False, indent=1)
    )


if __name__ == "__main__":
    main()
