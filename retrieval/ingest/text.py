"""The reader of plain text and Markdown files (UTF-8 or GB18030)."""

from __future__ import annotations

from pathlib import Path

from retrieval.errors import CorpusError
from retrieval.ingest.readers import MAX_FILE_BYTES, Source, register


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


def read_text(path: Path) -> str:
    """Read a corpus file as text: UTF-8 (with or without BOM), else GB18030.

    Raises:
        CorpusError: the file is unreadable, binary, too large, or in neither encoding.
    """
    data = read_bytes(path)
    if b"\x00" in data:
        raise CorpusError(f"{path} looks like a binary file, not text; remove it from the corpus")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CorpusError(f"{path} is neither UTF-8 nor GB18030 text; convert it to UTF-8")


@register(".md", ".txt")
def read_plain(path: Path) -> Source:
    """Read a Markdown or plain-text document as it is. In plain text a line that ends a
    sentence ends its paragraph (one paragraph a line, as Chinese text files are written);
    Markdown keeps its rule, a blank line between paragraphs."""
    return Source(read_text(path), line_paragraphs=path.suffix.lower() == ".txt")
