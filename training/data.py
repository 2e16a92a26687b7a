"""Reading-comprehension data for the reader: paragraphs, questions, splits and BM25 negatives."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rjieba

logger = logging.getLogger(__name__)

DATA_DIR = Path("/work/shared/datasets/train")
# SQuAD-format files that may be trained on (cmrc2018-dev and the gold set never are).
FILES = {
    "cmrc-train": "cmrc2018_train.json",
    "cmrc-trial": "cmrc2018_trial.json",
    "drcd-dev": "DRCD_dev.json",
}
STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 有 也 都 就 而 对 为 把 被 从 到 向 以 等 中 上 下 这 那 哪 个 "
    "吗 呢 吧 啊 呀 么 什么 怎么 怎样 如何 多少 几 哪些 哪个 哪里 谁 为什么 是否 多久 何时 "
    "什麼 怎麼 哪裡 為什麼 請問 "
    "the a an of to in on for is are was were what which who when where how many much does do"
    "".split()
)
_WORD = re.compile(r"\w", re.UNICODE)
_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff0-9]+")


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of a dataset file."""

    source: str
    article: str
    text: str


@dataclass(frozen=True)
class Question:
    """One question with its paragraph (index into the paragraph list) and first answer."""

    qid: str
    text: str
    paragraph: int
    answer: str
    answer_start: int


def is_dev_article(source: str, article: str) -> bool:
    """Return True for articles held out of training (all of cmrc-trial, a tenth of DRCD)."""
    if source == "cmrc-trial":
        return True
    if source == "drcd-dev":
        return hashlib.sha1(article.encode("utf-8")).digest()[0] % 10 == 0
    return False


def load_split(data_dir: Path = DATA_DIR) -> dict[str, tuple[list[Paragraph], list[Question]]]:
    """Load the SQuAD files and split them into train and dev by article."""
    split: dict[str, tuple[list[Paragraph], list[Question]]] = {"train": ([], []), "dev": ([], [])}
    for source, name in FILES.items():
        data = json.loads((data_dir / name).read_text(encoding="utf-8"))["data"]
        for article in data:
            title = article.get("title") or article.get("id") or ""
            key = f"{source}:{title}:{article.get('id', '')}"
            paragraphs, questions = split["dev" if is_dev_article(source, key) else "train"]
            for para in article["paragraphs"]:
                context = para["context"]
                index = len(paragraphs)
                paragraphs.append(Paragraph(source, key, context))
                for qa in para["qas"]:
                    answers = [a for a in qa.get("answers", []) if a.get("text")]
                    if not answers:
                        continue
                    answer = answers[0]
                    start = int(answer["answer_start"])
                    if context[start : start + len(answer["text"])] != answer["text"]:
                        found = context.find(answer["text"])
                        if found < 0:
                            continue
                        start = found
                    questions.append(
                        Question(str(qa["id"]), qa["question"], index, answer["text"], start)
                    )
    return split


def bm25_tokens(text: str) -> list[str]:
    """Return jieba words (no stopwords) plus CJK/digit bigrams, as the project's BM25 does."""
    lowered = text.lower()
    words = [
        w
        for w in rjieba.cut_for_search(lowered)
        if _WORD.search(w) and w.strip() and w not in STOPWORDS
    ]
    pairs = []
    for run in _RUN.findall(lowered):
        pairs += ["~" + run[i : i + 2] for i in range(len(run) - 1)]
    return words + pairs


def bm25_candidates(paragraphs: list[Paragraph], questions: list[str], k: int) -> np.ndarray:
    """Return the top-k paragraph indices by BM25 for each question, shape (n_questions, k)."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    retriever = bm25s.BM25(k1=1.5, b=0.75)
    retriever.index([bm25_tokens(p.text) for p in paragraphs], show_progress=False)
    vocab = retriever.vocab_dict
    out = np.zeros((len(questions), k), dtype=np.int64)
    for row, question in enumerate(questions):
        tokens = [t for t in bm25_tokens(question) if t in vocab]
        if tokens:
            scores = np.asarray(retriever.get_scores(tokens), dtype=np.float32)
        else:
            scores = np.zeros(len(paragraphs), dtype=np.float32)
        top = np.argsort(-scores, kind="stable")[:k]
        out[row] = top
    return out
