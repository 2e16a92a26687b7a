"""The reader of plain text and Markdown files (UTF-8, UTF-16/32 with a mark, GB18030, Big5)."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import rjieba
from charset_normalizer import from_bytes

from retrieval.errors import CorpusError
from retrieval.ingest.readers import MAX_FILE_BYTES, Source, register
from retrieval.normalize import normalize


def read_bytes(path: Path) -> bytes:
    """Read a corpus file's bytes, refusing files too large to be one document.

    Raises:
        CorpusError: the file is unreadable or too large.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CorpusError(
                f"{path} is {size // (1024 * 1024)} MiB, over the {MAX_FILE_BYTES // (1024 * 1024)}"
                " MiB limit for one document; split it into smaller files"
            )
        return path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror or exc}") from exc


# Byte-order marks, longest first (UTF-32 LE starts with UTF-16 LE's): Windows Notepad's
# "Unicode" is UTF-16 LE with its mark.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# The legacy encodings of Chinese text: Simplified (GB2312/GBK/GB18030) and Traditional (Big5).
# Big5 bytes nearly always decode as GB18030 too, into other characters (and short GB18030
# text as Big5): when both decode, the one that reads as words wins (_likelier).
LEGACY_ENCODINGS = ("gb18030", "big5")
SHORT_BYTES = 32
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def read_text(path: Path) -> str:
    """Read a corpus file as text: UTF-8, or UTF-16/32 with a byte-order mark, else GB18030 or
    Big5, whichever the bytes are.

    Raises:
        CorpusError: the file is unreadable, binary, too large, or in none of these encodings.
    """
    data = read_bytes(path)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                break
    if b"\x00" in data:
        raise CorpusError(
            f"{path} looks like a binary file, not text; remove it from the corpus"
            " (or, if it is text, save it as UTF-8)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    decoded = {}
    for encoding in LEGACY_ENCODINGS:
        try:
            decoded[encoding] = data.decode(encoding)
        except UnicodeDecodeError:
            continue
    if len(decoded) > 1:
        return _likelier(decoded, data)
    if decoded:
        return next(iter(decoded.values()))
    raise CorpusError(f"{path} is neither UTF-8, GB18030 nor Big5 text; convert it to UTF-8")


@register(".md", ".txt")
def read_plain(path: Path) -> Source:
    """Read a Markdown or plain-text document as it is. In plain text a line that ends a
    sentence ends its paragraph (one paragraph a line, as Chinese text files are written);
    Markdown keeps its rule, a blank line between paragraphs."""
    suffix = path.suffix.lower()
    return Source(read_text(path), line_paragraphs=suffix == ".txt", fences=suffix == ".md")


def _likelier(decoded: dict[str, str], data: bytes) -> str:
    """Return the decoding that reads as Chinese: the larger share of its characters in words
    of jieba's dictionary (mojibake is single rare characters: 怮埻庈 for 太原市); when they
    tie, charset-normalizer's choice between them (below SHORT_BYTES, the first)."""
    shares = {encoding: _in_words(text) for encoding, text in decoded.items()}
    ranked = sorted(shares.values(), reverse=True)
    if ranked[0] > ranked[1]:
        return decoded[max(shares, key=shares.__getitem__)]
    if len(data) < SHORT_BYTES:  # a word or two neither reads as: too little for statistics
        return next(iter(decoded.values()))
    best = from_bytes(data, cp_isolation=list(decoded)).best()
    return decoded.get(best.encoding if best else "", next(iter(decoded.values())))


def _in_words(text: str) -> float:
    """Return the share of the text's CJK characters that stand in words of two or more
    characters of jieba's dictionary (read in Simplified Chinese)."""
    sample = normalize(text[:2000])
    total = len(_CJK.findall(sample))
    if not total:
        return 0.0
    worded = sum(len(w) for w in rjieba.cut(sample, False) if len(w) > 1 and _CJK.match(w))
    return worded / total
