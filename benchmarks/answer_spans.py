"""Measure the typed answer spans (retrieval/search/answers.py): python benchmarks/answer_spans.py.

Over the reading-comprehension data the reader trains on (training/data.py: CMRC 2018 train,
trial and DRCD dev, SQuAD format, with answer spans), for each question that asks for a kind
search/asks.py knows, against its own paragraph: how often a span is shown, and how often a
shown span is right (it overlaps the gold answer's characters). Rules are written on the
training split; the held-out split (CMRC 2018 trial and a tenth of DRCD) is the report.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retrieval.search.answers import answer_span  # noqa: E402
from retrieval.search.asks import asked_kinds  # noqa: E402
from training.data import DATA_DIR, load_split  # noqa: E402

FIGURES = re.compile(r"[0-9零〇一二两三四五六七八九十百千万亿]+(?:[.,][0-9]+)*")


def measure(split: str, data_dir: Path, show: int) -> dict[str, object]:
    paragraphs, questions = load_split(data_dir)[split]
    asked, shown, right = Counter(), Counter(), Counter()
    wrong: list[str] = []
    for q in questions:
        kinds = asked_kinds(q.text)
        if not kinds:
            continue
        kind = next((k for k in kinds if k.decisive), kinds[0]).name
        asked[kind] += 1
        text = paragraphs[q.paragraph].text
        span = answer_span(q.text, text)
        if span is None:
            continue
        shown[kind] += 1
        a, b = q.answer_start, q.answer_start + len(q.answer)
        shown_text = text[span[0] : span[1]]
        # Right where it overlaps the gold answer, or gives its figures elsewhere (`3年`
        # twice; `220多公里` for `220公里`; `五项` for `五个指标`).
        gold_figures = set(FIGURES.findall(q.answer))
        if (
            span[0] < b
            and a < span[1]
            or gold_figures
            and gold_figures <= set(FIGURES.findall(shown_text))
        ):
            right[kind] += 1
        elif len(wrong) < show:
            wrong.append(f"{q.text} | gold {q.answer!r} | shown {shown_text!r}")
    total = {k: sum(c.values()) for k, c in (("asked", asked), ("shown", shown), ("right", right))}
    return {
        "split": split,
        "questions": len(questions),
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
    parser.add_argument("--wrong", type=int, default=0, help="list this many wrong spans")
    args = parser.parse_args()
    print(json.dumps(measure(args.split, args.data, args.wrong), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
