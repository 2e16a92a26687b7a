"""What ingestion produces: cited paragraphs and the documents they come from."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

# Bump when ingestion changes what paragraphs a file yields: indexes built before are stale.
PARSER_VERSION = 5  # 5: code fences, short HTML lists, DOCX content controls and insertions
SECTION_SEP = " › "


@dataclass(frozen=True)
class Paragraph:
    """One citable paragraph: its document, number, section path and text."""

    doc: str
    number: int
    section: str
    text: str
    meta: tuple[tuple[str, str], ...] = ()
    page: int | None = None  # the page it starts on, for paged formats (PDF)

    @property
    def id(self) -> str:
        """Return the stable id used in indexes and question sets: ``doc#number``."""
        return f"{self.doc}#{self.number}"

    def meta_values(self, key: str) -> list[str]:
        return [v for k, v in self.meta if k == key]

    @property
    def index_text(self) -> str:
        """Return what is embedded and indexed: section, text, and the facts kept as metadata."""
        # Signers and dates are facts readers ask about; bylines and decks would only add noise.
        extra = [v for k, v in self.meta if k in ("signed", "date")]
        # Text outside any article has the document's name as its section: a file name says
        # nothing of the text, and "shanxi-taiyuan-news" would match every English question.
        head = [] if self.section == self.doc else [self.section]
        return "\n".join([*head, self.text, *extra])


@dataclass(frozen=True)
class Document:
    """A parsed corpus file."""

    doc: str
    path: Path
    title: str
    paragraphs: tuple[Paragraph, ...]
    sha256: str


def iter_paragraphs(documents: Iterable[Document]) -> Iterator[Paragraph]:
    """Yield every paragraph of the documents, in corpus order."""
    for d in documents:
        yield from d.paragraphs


def corpus_hash(documents: Iterable[Document]) -> str:
    """Return a hash of the corpus content and the parser version (what an index depends on)."""
    h = hashlib.sha256(f"parser-{PARSER_VERSION}".encode())
    for d in documents:
        h.update(f"\0{d.doc}\0{d.sha256}".encode())
    return h.hexdigest()
