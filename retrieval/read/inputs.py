"""Turn a question and paragraphs into the reader's token windows (tokenizer and numpy only)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

BOS, PAD, EOS = 0, 1, 2  # XLM-R special token ids, as in multilingual-e5-small
# Inputs are question + a window of the paragraph: the reader's cost grows with the length,
# and 128 tokens (about 90 CJK characters of paragraph) keeps five candidates within budget.
MAX_TOKENS = 128
MAX_QUESTION_TOKENS = 32
WINDOW_STRIDE = 8  # window starts tried, in tokens, when a paragraph is longer than a window

_GRAM_CHARS = re.compile(r"[\w\u3400-\u9fff\uf900-\ufaff]", re.UNICODE)


@dataclass(frozen=True)
class Window:
    """One (question, paragraph window) input: token ids and where the paragraph tokens are."""

    ids: np.ndarray  # int64 (n,): <s> question </s></s> window </s>
    first: int  # index in ids of the first paragraph token
    offsets: np.ndarray  # int64 (m, 2): character span in the paragraph of each window token


def load_tokenizer(model_dir: Path) -> Tokenizer:
    """Load the fast XLM-R tokenizer of the base model folder (no special tokens added)."""
    tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


# Scripts qabot's corpora are not written in (Greek to Mongolian, Hangul, Yi and others).
# A piece holding one of their characters cannot match Chinese or English text, so dropping
# those pieces leaves the Unigram segmentation of that text unchanged, and halves the
# tokenizer: 128k of 250k pieces, 0.35 s and ~110 MB to load instead of 1.2 s and ~290 MB.
_UNSERVED = re.compile(r"[\u0370-\u1cff\u3130-\u318f\ua000-\uabff\uac00-\ud7af]")


def load_served_tokenizer(model_dir: Path, cache_dir: Path) -> tuple[Tokenizer, np.ndarray]:
    """Load the tokenizer without the pieces of unserved scripts, and its map to model ids.

    Built at first use from the base folder's tokenizer.json into cache_dir (named by that
    file's checksum). Text in the dropped scripts reads as <unk> there.
    """
    source = Path(model_dir) / "tokenizer.json"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    pruned = Path(cache_dir) / f"tokenizer-{digest}-pruned.json"
    id_map_file = pruned.with_suffix(".ids.npy")
    if not (pruned.is_file() and id_map_file.is_file()):
        spec = json.loads(source.read_text(encoding="utf-8"))
        vocab = spec["model"]["vocab"]
        specials = {t["id"] for t in spec.get("added_tokens", [])} | {spec["model"]["unk_id"]}
        keep = [
            i for i, (piece, _) in enumerate(vocab) if i in specials or not _UNSERVED.search(piece)
        ]
        new_id = {old: new for new, old in enumerate(keep)}
        spec["model"]["vocab"] = [vocab[i] for i in keep]
        spec["model"]["unk_id"] = new_id[spec["model"]["unk_id"]]
        spec["added_tokens"] = [{**t, "id": new_id[t["id"]]} for t in spec.get("added_tokens", [])]
        pruned.parent.mkdir(parents=True, exist_ok=True)
        tmp = pruned.with_name(f".{pruned.name}.{os.getpid()}")
        tmp.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        np.save(tmp.with_suffix(".npy"), np.array(keep, dtype=np.int64))
        os.replace(tmp.with_suffix(".npy"), id_map_file)
        os.replace(tmp, pruned)
    tokenizer = Tokenizer.from_file(str(pruned))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer, np.load(id_map_file)


def question_grams(question: str) -> frozenset[str]:
    """Return the lowercased character pairs of a question that a paragraph can share."""
    text = question.lower()
    return frozenset(
        text[i : i + 2]
        for i in range(len(text) - 1)
        if _GRAM_CHARS.match(text[i]) and _GRAM_CHARS.match(text[i + 1])
    )


def char_hits(passage: str, grams: frozenset[str]) -> np.ndarray:
    """Return, per paragraph character, 1.0 where a question character pair starts there."""
    text = passage.lower()
    hits = np.zeros(len(text) + 1, dtype=np.float32)
    if grams:
        for i in range(len(text) - 1):
            if text[i : i + 2] in grams:
                hits[i] = 1.0
    return hits


def best_window(offsets: np.ndarray, hits: np.ndarray, width: int) -> int:
    """Return the first token of the width-token window holding the most question pairs."""
    n = len(offsets)
    if n <= width:
        return 0
    char_sums = np.concatenate([[0.0], np.cumsum(hits)])
    token_hits = char_sums[offsets[:, 1]] - char_sums[offsets[:, 0]]
    token_sums = np.concatenate([[0.0], np.cumsum(token_hits)])
    starts = np.unique(np.r_[np.arange(0, n - width, WINDOW_STRIDE), n - width])
    scores = token_sums[starts + width] - token_sums[starts]
    return int(starts[int(np.argmax(scores))])  # argmax: the earliest of equal windows


def question_ids(
    tokenizer: Tokenizer, question: str, id_map: np.ndarray | None = None
) -> list[int]:
    """Return the question's token ids (model ids, through id_map), cut to MAX_QUESTION_TOKENS."""
    ids = tokenizer.encode(question, add_special_tokens=False).ids[:MAX_QUESTION_TOKENS]
    return [int(i) for i in id_map[ids]] if id_map is not None else list(ids)


def assemble(q_ids: Sequence[int], p_ids: Sequence[int], p_offsets: np.ndarray) -> Window:
    """Build the pair input <s> q </s></s> p </s> from already windowed paragraph tokens."""
    ids = np.array([BOS, *q_ids, EOS, EOS, *p_ids, EOS], dtype=np.int64)
    return Window(ids=ids, first=len(q_ids) + 3, offsets=np.asarray(p_offsets, dtype=np.int64))


def window_width(n_question_tokens: int) -> int:
    """Return how many paragraph tokens fit beside a question of that many tokens."""
    return MAX_TOKENS - n_question_tokens - 4


def encode_pairs(
    tokenizer: Tokenizer,
    question: str,
    passages: Sequence[str],
    id_map: np.ndarray | None = None,
) -> list[Window]:
    """Encode the question with each paragraph's best-matching window, as the reader reads it.

    id_map maps a pruned tokenizer's ids to the model's (see load_served_tokenizer).
    """
    q_ids = question_ids(tokenizer, question, id_map)
    width = window_width(len(q_ids))
    grams = question_grams(question)
    windows = []
    for encoding, passage in zip(
        tokenizer.encode_batch(list(passages), add_special_tokens=False), passages, strict=True
    ):
        offsets = np.array(encoding.offsets, dtype=np.int64).reshape(-1, 2)
        start = best_window(offsets, char_hits(passage, grams), width)
        stop = start + width
        p_ids = encoding.ids[start:stop]
        if id_map is not None:
            p_ids = id_map[p_ids].tolist()
        windows.append(assemble(q_ids, p_ids, offsets[start:stop]))
    return windows


def pad_batch(windows: Sequence[Window]) -> tuple[np.ndarray, np.ndarray]:
    """Stack windows into (ids, attention mask) int64 arrays padded to the longest."""
    length = max(len(w.ids) for w in windows)
    ids = np.full((len(windows), length), PAD, dtype=np.int64)
    mask = np.zeros((len(windows), length), dtype=np.int64)
    for row, window in enumerate(windows):
        ids[row, : len(window.ids)] = window.ids
        mask[row, : len(window.ids)] = 1
    return ids, mask
