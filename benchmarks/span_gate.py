"""Choose the reader's answer-span gate: python benchmarks/span_gate.py [--questions N].

Reads held-out questions (training/data.py's dev split: CMRC 2018 trial and a tenth of DRCD's
articles, never trained on) against their own paragraph with the served reader, and measures
the character F1 of the span it finds against the true answer. A span is shown when the
paragraph reads as answering and the span's logits beat the "no answer" pair by
SPAN_MIN_MARGIN (retrieval/read/reader.py); this prints, for each margin, the share of
answering paragraphs whose span is shown and the mean F1 of those shown, and the smallest
margin whose shown spans reach MIN_F1.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retrieval.read.reader import SPAN_MAX_P_NOT_ANSWER, PassageReader  # noqa: E402
from training.data import load_split  # noqa: E402
from training.reader import char_f1  # noqa: E402

MIN_F1 = 0.7
MARGINS = (-np.inf, -2.0, -1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=600)
    args = parser.parse_args()
    reader = PassageReader.load()
    paragraphs, questions = load_split()["dev"]
    chosen = random.Random(7).sample(questions, min(args.questions, len(questions)))
    rows = []
    for q in chosen:
        text = paragraphs[q.paragraph].text
        reading = reader.read(q.text, [text])[0]
        if reading.best is None:
            continue
        pred = text[reading.best[0] : reading.best[1]].strip()
        rows.append((reading.span_margin, reading.p_not_answer, char_f1(pred, q.answer.strip())))
    margin, p_not, f1 = (np.array(c) for c in zip(*rows, strict=True))
    answering = p_not < SPAN_MAX_P_NOT_ANSWER
    print(f"{len(rows)} held-out questions read with their own paragraph ({reader.backend});")
    print(f"all spans: F1 {f1.mean():.3f}; of paragraphs read as answering: {answering.mean():.1%}")
    print("margin  shown (of answering)  mean F1 of shown")
    best = None
    for m in MARGINS:
        shown = answering & (margin >= m)
        mean = float(f1[shown].mean()) if shown.any() else float("nan")
        print(f"{m:6}  {shown.sum() / max(1, answering.sum()):20.1%}  {mean:.3f}")
        if best is None and mean >= MIN_F1:
            best = m
    print(f"SPAN_MIN_MARGIN = {best}" if best is not None else f"no margin reaches F1 {MIN_F1}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
