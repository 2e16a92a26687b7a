"""Train the passage reader (re-ranking, "not found", answer span) and write its artifact.

Run from the repository root (resumes from the last checkpoint in --work-dir when re-run):

    nohup nice -n 10 .venv/bin/python -m training.reader --steps 4000 --finish-by 16:40 \
        > reader-train.log 2>&1 &

See training/README.md for the recipe and docs/reader.md for the figures it reached.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer

from retrieval.config import qabot_home
from retrieval.read import artifact as artifact_module
from retrieval.read.artifact import ARTIFACT_PATH, save_artifact
from retrieval.read.base import (
    BASE_MODEL,
    WORD_EMBEDDINGS,
    base_model_dir,
    base_tensors,
)
from retrieval.read.inputs import (
    Window,
    assemble,
    best_window,
    char_hits,
    load_tokenizer,
    pad_batch,
    question_grams,
    question_ids,
    window_width,
)
from retrieval.read.model import (
    FROZEN_LAYERS,
    N_LAYERS,
    ReaderNet,
    load_base_into,
    trained_names,
)
from training.data import Paragraph, Question, bm25_candidates, load_split
from training.junk import junk_question

logger = logging.getLogger("training.reader")

ATTRIBUTION = (
    "Trained on CMRC 2018 train+trial (Cui et al. 2019, CC BY-SA 4.0) and DRCD dev "
    "(Shao et al. 2018, Delta Research Center, CC BY-SA 3.0); base intfloat/multilingual-e5-small "
    "(MIT)."
)
N_CANDIDATES = 8  # BM25 candidates kept per question for negatives
SPAN_POSITIVE_WEIGHT = 4.0
SENTENCE = re.compile(r"[^。！？!?；;\n]*(?:[。！？!?；;\n]+[”」』）)]*|$)")
TRIMMED_MIN_CHARS = 30  # shorter remains are not a paragraph a first stage would offer
DEV_K = 5  # candidates re-ranked in the dev metric (as served: the first stage's top 5)


@dataclass
class Tokenized:
    """A paragraph's tokens, offsets and lowercase text (for window selection)."""

    ids: list[int]
    offsets: np.ndarray


def tokenize_paragraphs(tokenizer: Tokenizer, paragraphs: list[Paragraph]) -> list[Tokenized]:
    encodings = tokenizer.encode_batch([p.text for p in paragraphs], add_special_tokens=False)
    return [
        Tokenized(list(e.ids), np.array(e.offsets, dtype=np.int64).reshape(-1, 2))
        for e in encodings
    ]


def answer_tokens(offsets: np.ndarray, start: int, end: int) -> tuple[int, int] | None:
    """Return the first and last token covering characters [start, end) of the paragraph."""
    inside = np.nonzero((offsets[:, 1] > start) & (offsets[:, 0] < end))[0]
    if len(inside) == 0:
        return None
    return int(inside[0]), int(inside[-1])


def window_for(
    q_ids: list[int],
    grams: frozenset[str],
    para: Paragraph,
    tok: Tokenized,
    answer: tuple[int, int] | None = None,
) -> tuple[Window, int]:
    """Return the input window (the answer's best window if given) and its first token."""
    width = window_width(len(q_ids))
    hits = char_hits(para.text, grams)
    n = len(tok.ids)
    if answer is None or n <= width:
        start = best_window(tok.offsets, hits, width)
    else:
        a, b = answer
        if b - a + 1 > width:
            start = a
        else:
            lo, hi = max(0, b - width + 1), min(a, n - width)
            start = best_window(tok.offsets[lo : hi + width], hits, width) + lo
    stop = start + width
    return assemble(q_ids, tok.ids[start:stop], tok.offsets[start:stop]), start


@dataclass
class Example:
    """One (question, window) input with its targets."""

    window: Window
    label: float  # 1 if the window answers the question
    start: int = -1  # answer token positions in the input, or -1
    end: int = -1


class ExampleBuilder:
    """Build training groups: one question with a positive and hard negatives, or none."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        paragraphs: list[Paragraph],
        questions: list[Question],
        candidates: np.ndarray,
        negatives: int,
    ) -> None:
        self.tokenizer = tokenizer
        self.paragraphs: list[Paragraph] = paragraphs
        self.questions: list[Question] = questions
        self.tokens = tokenize_paragraphs(tokenizer, paragraphs)
        self.q_ids = [question_ids(tokenizer, q.text) for q in questions]
        self.candidates = candidates
        self.negatives = negatives
        self.by_article: dict[str, list[int]] = {}
        for i, p in enumerate(paragraphs):
            self.by_article.setdefault(p.article, []).append(i)

    def _negative_pool(self, qi: int) -> list[int]:
        q = self.questions[qi]
        pool = [int(c) for c in self.candidates[qi] if c != q.paragraph]
        # Same-article paragraphs are the siblings that win today; put them up front.
        siblings = [
            s
            for s in self.by_article[self.paragraphs[q.paragraph].article]
            if s != q.paragraph and s not in pool[:3]
        ]
        pool = pool[:2] + siblings[:2] + pool[2:]
        # A "negative" holding the exact answer is probably another right answer.
        if len(q.answer) >= 2:
            pool = [p for p in pool if q.answer not in self.paragraphs[p].text]
        return pool

    def trimmed(self, qi: int) -> Paragraph | None:
        """Return the question's own paragraph without the sentences holding its answer.

        The near-topic negative: same article, same words as the question, no answer (as
        `零工市场每天几点开门？` against the paragraph on 零工市场 that gives no hours).
        None when too little is left or the answer occurs again in what is left.
        """
        q = self.questions[qi]
        para = self.paragraphs[q.paragraph]
        a, b = q.answer_start, q.answer_start + len(q.answer)
        kept, pos = [], 0
        for sentence in SENTENCE.findall(para.text):
            if not (pos < b and pos + len(sentence) > a):
                kept.append(sentence)
            pos += len(sentence)
        return self._without_answer(q, para, "".join(kept))

    def blanked(self, qi: int) -> Paragraph | None:
        """Return the question's own paragraph with its answer cut out of the sentence.

        The nearest near-topic negative: the sentence that would answer is still there, the
        slot the question asks to fill is empty (`零工市场每天开门` for `每天几点开门？`).
        None when the answer occurs again in what is left.
        """
        q = self.questions[qi]
        para = self.paragraphs[q.paragraph]
        a, b = q.answer_start, q.answer_start + len(q.answer)
        return self._without_answer(q, para, para.text[:a] + para.text[b:])

    @staticmethod
    def _without_answer(q: Question, para: Paragraph, text: str) -> Paragraph | None:
        """Return the paragraph's text cut for a near-topic negative, or None when too little
        is left or the answer occurs again in what is left."""
        if len(text) < TRIMMED_MIN_CHARS or not q.answer or q.answer in text:
            return None
        return Paragraph(para.source, para.article, text)

    def group(self, qi: int, rng: random.Random, kind: str) -> tuple[list[Example], int]:
        """Return the examples of one question and the index of the positive (-1: none)."""
        q = self.questions[qi]
        q_ids = self.q_ids[qi]
        text = q.text
        if kind == "junk":
            text = junk_question(rng)
            q_ids = question_ids(self.tokenizer, text)
        grams = question_grams(text)
        examples: list[Example] = []
        positive = -1
        if kind in ("trimmed", "blanked"):
            near = self.trimmed(qi) if kind == "trimmed" else self.blanked(qi)
            if near is None:
                kind = "removed"
            else:
                tok = tokenize_paragraphs(self.tokenizer, [near])[0]
                window, _ = window_for(q_ids, grams, near, tok)
                examples.append(Example(window, 0.0))
                kind = "removed"  # and the best other paragraphs: nothing here answers
        if kind == "normal":
            tok = self.tokens[q.paragraph]
            span = answer_tokens(tok.offsets, q.answer_start, q.answer_start + len(q.answer))
            if span is not None:
                window, first = window_for(q_ids, grams, self.paragraphs[q.paragraph], tok, span)
                a, b = span[0] - first, span[1] - first
                if 0 <= a <= b < len(window.offsets):
                    positive = 0
                    examples.append(Example(window, 1.0, window.first + a, window.first + b))
            if positive < 0:
                kind = "removed"
        if kind in ("normal", "removed"):
            pool = self._negative_pool(qi)
            n = self.negatives + (1 if kind == "removed" else 0)
            # Mostly the hardest ones, sometimes deeper ones.
            chosen = pool[:n] if rng.random() < 0.6 else rng.sample(pool, min(n, len(pool)))
        else:  # off-topic or junk: paragraphs of other articles, at random
            chosen = rng.sample(range(len(self.paragraphs)), self.negatives + 1)
            chosen = [c for c in chosen if c != q.paragraph][: self.negatives + 1]
        for c in chosen:
            window, _ = window_for(q_ids, grams, self.paragraphs[c], self.tokens[c])
            examples.append(Example(window, 0.0))
        return examples, positive


# trimmed: the own paragraph minus the answer's sentences, with the removed-kind negatives;
# blanked: the own paragraph minus the answer itself (cycle 4 on).
KINDS = (
    ("normal", 0.56),
    ("removed", 0.12),
    ("trimmed", 0.16),
    ("blanked", 0.06),
    ("offtopic", 0.04),
    ("junk", 0.06),
)


def pick_kind(rng: random.Random) -> str:
    r = rng.random()
    for kind, share in KINDS:
        if r < share:
            return kind
        r -= share
    return "normal"


class WordEmbeddings:
    """The frozen word-embedding lookup, from the base model's memory-mapped fp16 matrix."""

    def __init__(self, model_dir: Path) -> None:
        self.matrix = base_tensors(model_dir, (WORD_EMBEDDINGS,))[WORD_EMBEDDINGS]

    def __call__(self, ids: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.asarray(self.matrix[ids], dtype=np.float32))


def batch_loss(
    net: ReaderNet, words: WordEmbeddings, groups: list[tuple[list[Example], int]]
) -> tuple[torch.Tensor, dict[str, float]]:
    """Return the training loss of a batch of groups: listwise + pointwise + span."""
    flat = [ex for examples, _ in groups for ex in examples]
    ids, mask = pad_batch([ex.window for ex in flat])
    relevance, start_logits, end_logits = net(words(ids), torch.from_numpy(mask))
    labels = torch.tensor([ex.label for ex in flat])
    pointwise = F.binary_cross_entropy_with_logits(relevance, labels)
    listwise = []
    row = 0
    for examples, positive in groups:
        z = relevance[row : row + len(examples)]
        # A fixed 0 logit stands for "no paragraph answers": the threshold the score learns.
        logits = torch.cat([z.new_zeros(1), z])
        listwise.append(F.cross_entropy(logits[None], torch.tensor([positive + 1])))
        row += len(examples)
    masked = torch.from_numpy(mask == 0)
    # Windows that do not answer point both ends at <s> (position 0), as in SQuAD 2.0.
    starts = torch.tensor([max(ex.start, 0) for ex in flat])
    ends = torch.tensor([max(ex.end, 0) for ex in flat])
    s = start_logits.masked_fill(masked, -1e4)
    e = end_logits.masked_fill(masked, -1e4)
    per_row = (
        F.cross_entropy(s, starts, reduction="none") + F.cross_entropy(e, ends, reduction="none")
    ) / 2
    # Answer spans are the hard part (pointing at <s> is learnt in a few steps): weigh them up.
    weights = torch.tensor([SPAN_POSITIVE_WEIGHT if ex.start >= 0 else 1.0 for ex in flat])
    span = (per_row * weights).sum() / weights.sum()
    lw = torch.stack(listwise).mean()
    loss = lw + 0.5 * pointwise + span
    return loss, {"list": lw.item(), "point": pointwise.item(), "span": span.item()}


def best_span(
    start: np.ndarray, end: np.ndarray, first: int, n: int, max_len: int = 30
) -> tuple[int, int]:
    """Return the (start, end) token pair inside the paragraph window with the best sum."""
    s = start[first : first + n]
    e = end[first : first + n]
    best, pair = -math.inf, (0, 0)
    top_s = np.argsort(-s)[:10]
    top_e = np.argsort(-e)[:10]
    for i in top_s:
        for j in top_e:
            if i <= j < i + max_len and s[i] + e[j] > best:
                best, pair = s[i] + e[j], (int(i), int(j))
    return pair


def char_f1(pred: str, gold: str) -> float:
    common = 0
    counts: dict[str, int] = {}
    for ch in gold:
        counts[ch] = counts.get(ch, 0) + 1
    for ch in pred:
        if counts.get(ch, 0) > 0:
            common += 1
            counts[ch] -= 1
    if common == 0:
        return 0.0
    p, r = common / len(pred), common / len(gold)
    return 2 * p * r / (p + r)


@torch.inference_mode()
def evaluate(
    net: ReaderNet, words: WordEmbeddings, dev: ExampleBuilder, limit: int | None, seed: int = 7
) -> dict[str, object]:
    """Re-rank BM25's top DEV_K on held-out questions; span F1; not-found rates."""
    net.eval()
    order = list(range(len(dev.questions)))
    random.Random(seed).shuffle(order)
    order = order[: limit or len(order)]
    bm25_hit = reader_hit = fused_hit = 0
    f1s: list[float] = []
    ems: list[float] = []
    answered_flagged = removed_flagged = 0
    removed_total = 0
    for qi in order:
        q = dev.questions[qi]
        cands = [int(c) for c in dev.candidates[qi][: DEV_K + 1]]
        grams = question_grams(q.text)
        wins = [
            window_for(dev.q_ids[qi], grams, dev.paragraphs[c], dev.tokens[c])[0] for c in cands
        ]
        ids, mask = pad_batch(wins)
        rel, st, en = (t.numpy() for t in net(words(ids), torch.from_numpy(mask)))
        top = cands[:DEV_K]
        z = rel[:DEV_K]
        bm25_hit += top[0] == q.paragraph
        reader_hit += top[int(np.argmax(z))] == q.paragraph
        # Fused: reader score plus a small rank prior from BM25 (the served fusion may differ).
        fused = z - 0.5 * np.arange(len(z))
        fused_hit += top[int(np.argmax(fused))] == q.paragraph
        answered_flagged += float(z.max()) < 0
        if q.paragraph in top:
            g = top.index(q.paragraph)
            a, b = best_span(st[g], en[g], wins[g].first, len(wins[g].offsets))
            text = dev.paragraphs[q.paragraph].text
            pred = text[wins[g].offsets[a, 0] : wins[g].offsets[b, 1]].strip()
            f1s.append(char_f1(pred, q.answer))
            ems.append(float(pred == q.answer.strip()))
        removed = [i for i, c in enumerate(cands) if c != q.paragraph][:DEV_K]
        removed_total += 1
        removed_flagged += float(rel[removed].max()) < 0
    junk_rng = random.Random(seed)
    junk_flagged = 0
    n_junk = 60
    for _ in range(n_junk):
        text = junk_question(junk_rng)
        q_ids = question_ids(dev.tokenizer, text)
        cands = junk_rng.sample(range(len(dev.paragraphs)), DEV_K)
        wins = [
            window_for(q_ids, question_grams(text), dev.paragraphs[c], dev.tokens[c])[0]
            for c in cands
        ]
        ids, mask = pad_batch(wins)
        rel = net(words(ids), torch.from_numpy(mask))[0].numpy()
        junk_flagged += float(rel.max()) < 0
    net.train()
    n = len(order)
    return {
        "questions": n,
        "bm25_r1": bm25_hit / n,
        "reader_r1": reader_hit / n,
        "fused_r1": fused_hit / n,
        "span_f1": float(np.mean(f1s)) if f1s else 0.0,
        "span_em": float(np.mean(ems)) if ems else 0.0,
        "answerable_flagged": answered_flagged / n,
        "removed_flagged": removed_flagged / max(removed_total, 1),
        "junk_flagged": junk_flagged / n_junk,
    }


def export(net: ReaderNet, frozen: int, path: Path, figures: dict[str, object], step: int) -> str:
    """Write the artifact (encoder weights int8 per row, the rest fp16); return its SHA-256."""
    state = net.state_dict()
    tensors = {name: state[name].detach().float().numpy() for name in trained_names(net, frozen)}
    # fp16 for everything while it fits in 10 MB (two trained layers: 7 MB); int8 per row
    # for the encoder matrices if more layers are trained.
    int8 = (
        {n for n, v in tensors.items() if v.ndim == 2 and n.startswith("bert.encoder.")}
        if net.n_layers - frozen > 2
        else set()
    )
    metadata = {
        "base": BASE_MODEL,
        "layers": str(net.n_layers),
        "frozen_layers": str(frozen),
        "step": str(step),
        "figures": json.dumps(figures, sort_keys=True),
        "attribution": ATTRIBUTION,
    }
    sha = save_artifact(path, tensors, metadata, int8)
    if path.resolve() == ARTIFACT_PATH.resolve():
        source = Path(artifact_module.__file__)
        code = source.read_text(encoding="utf-8")
        code = re.sub(r'ARTIFACT_SHA256 = "[0-9a-f]{64}"', f'ARTIFACT_SHA256 = "{sha}"', code)
        source.write_text(code, encoding="utf-8")
    return sha


def save_checkpoint(
    path: Path,
    net: ReaderNet,
    frozen: int,
    opt: torch.optim.Optimizer,
    step: int,
    extra: dict[str, object],
) -> None:
    tmp = path.with_suffix(".tmp")
    trained = set(trained_names(net, frozen))
    torch.save(
        {
            "model": {k: v for k, v in net.state_dict().items() if k in trained},
            "layers": net.n_layers,
            "frozen": frozen,
            "opt": opt.state_dict(),
            "step": step,
            **extra,
        },
        tmp,
    )
    tmp.replace(path)


def _reader_shape(
    layers: int | None, frozen: int | None, state: dict[str, object] | None
) -> tuple[int, int]:
    """Return (layers, frozen): a checkpoint's own, else those asked for, else the defaults.

    Checkpoints written before the shape was an option hold neither: they are 4 and 2.
    """
    if state is not None:
        kept = (int(str(state.get("layers", N_LAYERS))), int(str(state.get("frozen", 2))))
        asked = (kept[0] if layers is None else layers, kept[1] if frozen is None else frozen)
        if (layers is not None or frozen is not None) and asked != kept:
            raise SystemExit(
                f"the checkpoint is of a {kept[0]}-layer reader with {kept[1]} frozen; "
                "use another --work-dir for another shape"
            )
        return kept
    shape = (N_LAYERS if layers is None else layers, FROZEN_LAYERS if frozen is None else frozen)
    if not 0 <= shape[1] < shape[0] <= 12:
        raise SystemExit("--layers must be 1 to 12 and --frozen below it")
    return shape


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2400, help="total optimiser steps")
    parser.add_argument("--batch", type=int, default=4, help="questions per step")
    parser.add_argument("--negatives", type=int, default=3, help="negatives per question")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--head-lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--eval-every", type=int, default=400)
    parser.add_argument("--dev-questions", type=int, default=150)
    parser.add_argument("--checkpoint-minutes", type=float, default=4.0)
    parser.add_argument(
        "--finish-by",
        default="",
        help="UTC HH:MM: decay the learning rate by time as well as by steps, so that "
        "training ends then (on a shared machine steps take what they take)",
    )
    parser.add_argument("--final-questions", type=int, default=600, help="dev questions at the end")
    parser.add_argument(
        "--new-cycle",
        action="store_true",
        help="resume a finished run for another learning-rate cycle (a warm restart)",
    )
    parser.add_argument(
        "--from-artifact",
        type=Path,
        default=None,
        help="start a new run (no checkpoint yet) from a reader artifact's trained weights "
        "instead of the base model's (for example retrieval/read/reader-v1.safetensors)",
    )
    parser.add_argument(
        "--layers",
        type=int,
        default=None,
        help=f"layers of e5-small the reader keeps (default {N_LAYERS}; a resumed run keeps "
        "its checkpoint's)",
    )
    parser.add_argument(
        "--frozen",
        type=int,
        default=None,
        help=f"lowest layers used as they are, not trained (default {FROZEN_LAYERS})",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ARTIFACT_PATH)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    work = args.work_dir or qabot_home() / "training" / "reader"
    work.mkdir(parents=True, exist_ok=True)
    checkpoint = work / "checkpoint.pt"

    model_dir = base_model_dir()
    tokenizer = load_tokenizer(model_dir)
    split = load_split()
    builders = {}
    for name in ("train", "dev"):
        paragraphs, questions = split[name]
        cands = bm25_candidates(paragraphs, [q.text for q in questions], N_CANDIDATES)
        builders[name] = ExampleBuilder(tokenizer, paragraphs, questions, cands, args.negatives)
        logger.info("%s: %d paragraphs, %d questions", name, len(paragraphs), len(questions))
    train, dev = builders["train"], builders["dev"]

    state = torch.load(checkpoint, weights_only=False) if checkpoint.exists() else None
    layers, frozen = _reader_shape(args.layers, args.frozen, state)
    logger.info("reader: %d layers of e5-small, the lowest %d frozen", layers, frozen)
    net = ReaderNet(layers)
    load_base_into(net, model_dir)
    words = WordEmbeddings(model_dir)
    trainable = set(trained_names(net, frozen))
    for name, param in net.named_parameters():
        param.requires_grad = name in trainable
    heads = [p for n, p in net.named_parameters() if n.startswith(("relevance.", "span."))]
    body = [
        p for n, p in net.named_parameters() if n.startswith("bert.encoder.") and n in trainable
    ]
    opt = torch.optim.AdamW(
        [{"params": body, "lr": args.lr}, {"params": heads, "lr": args.head_lr}],
        weight_decay=0.01,
    )

    base_lrs = [args.lr, args.head_lr]
    step = 0
    progress = 0.0  # fraction of the schedule done: by steps, or by time with --finish-by
    history: list[dict[str, object]] = []
    # The step this learning-rate cycle started at: a new cycle (--new-cycle, --from-artifact)
    # runs its own warm-up and decay over its own steps, not over the steps before it.
    cycle_start = 0
    if state is not None:
        net.load_state_dict(state["model"], strict=False)
        opt.load_state_dict(state["opt"])
        step = state["step"]
        cycle_start = int(state.get("cycle_start", 0))
        # The cycle's last step as it was set when the cycle began (--from-artifact and
        # --new-cycle count --steps from their start), unless a new cycle begins now.
        requested = args.steps
        args.steps = int(state.get("steps", args.steps))
        progress = state.get("progress", step / args.steps)
        if args.new_cycle:
            progress, args.steps, cycle_start = 0.0, step + requested, step
            logger.info("new learning-rate cycle from step %d to at most %d", step, args.steps)
        history = state.get("history", [])
        logger.info("resumed from %s at step %d", checkpoint, step)
    elif args.from_artifact is not None:
        tensors, metadata = artifact_module.load_artifact(args.from_artifact, sha256=None)
        loaded = {k: torch.from_numpy(v) for k, v in tensors.items()}
        if set(loaded) != trainable:
            raise SystemExit(f"{args.from_artifact} does not hold this reader's trained layers")
        net.load_state_dict(loaded, strict=False)
        step = cycle_start = int(metadata.get("step", 0))
        args.steps += step
        logger.info("started from %s (its step %d)", args.from_artifact, step)

    finish_at = None
    if args.finish_by:
        hh, mm = map(int, args.finish_by.split(":"))
        now = time.gmtime()
        minutes = (hh * 60 + mm) - (now.tm_hour * 60 + now.tm_min)
        finish_at = time.time() + minutes * 60 - now.tm_sec
    run_start, run_progress = time.time(), progress
    net.train()
    n_train = len(train.questions)
    last_save = time.monotonic()
    started = time.monotonic()
    window: list[dict[str, float]] = []
    while progress < 1.0:
        by_time = 0.0
        if finish_at is not None:
            elapsed = (time.time() - run_start) / max(1.0, finish_at - run_start)
            by_time = run_progress + (1 - run_progress) * elapsed
        by_steps = (step - cycle_start) / max(1, args.steps - cycle_start)
        progress = max(progress, by_steps, by_time)
        factor = min(1.0, (step - cycle_start + 1) / args.warmup) * max(0.02, 1.0 - progress)
        for group, lr in zip(opt.param_groups, base_lrs, strict=True):
            group["lr"] = lr * factor
        epoch, pos = divmod(step * args.batch, n_train)
        order = np.random.default_rng([args.seed, epoch]).permutation(n_train)
        rng = random.Random(args.seed * 1_000_003 + step)
        picks = [int(order[(pos + i) % n_train]) for i in range(args.batch)]
        groups = [train.group(qi, rng, pick_kind(rng)) for qi in picks]
        groups = [g for g in groups if g[0]]
        loss, parts = batch_loss(net, words, groups)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(body + heads, 1.0)
        opt.step()
        step += 1
        window.append({"loss": loss.item(), **parts})
        if step % 25 == 0:
            mean = {k: round(float(np.mean([w[k] for w in window])), 4) for k in window[0]}
            rate = (time.monotonic() - started) / 25
            started = time.monotonic()
            logger.info(
                "step %d (%.0f%%) %s lr %.2e %.2f s/step",
                step,
                100 * progress,
                mean,
                opt.param_groups[0]["lr"],
                rate,
            )
            window = []
        done = step >= args.steps or (finish_at is not None and time.time() >= finish_at)
        if done:
            progress = 1.0
        if step % args.eval_every == 0 or done:
            limit = args.final_questions if done else args.dev_questions
            figures = evaluate(net, words, dev, limit)
            figures["step"] = step
            history.append(figures)
            sha = export(net, frozen, args.out, figures, step)
            logger.info("dev %s; artifact %s sha256 %s", json.dumps(figures), args.out, sha)
        if done or time.monotonic() - last_save > args.checkpoint_minutes * 60:
            extra = {
                "history": history,
                "progress": progress,
                "cycle_start": cycle_start,
                "steps": args.steps,
            }
            save_checkpoint(checkpoint, net, frozen, opt, step, extra)
            last_save = time.monotonic()
            logger.info("checkpoint at step %d", step)
    final = history[-1] if history else {}
    print("FINAL", json.dumps(final, sort_keys=True))
    print(
        "artifact",
        args.out,
        "size",
        args.out.stat().st_size,
        "sha256",
        artifact_module.sha256_file(args.out),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
