"""Find a corpus's files, name its documents, and read them into paragraphs."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from retrieval.errors import CorpusError, Remedy
from retrieval.ingest.cutter import parse_text
from retrieval.ingest.paragraphs import PARSER_VERSION, Document
from retrieval.ingest.readers import Source, reader_for, supported_suffixes

# A folder holding this file is a question set (BEIR layout, like corpus/gold), not documents.
QUESTION_SET_MARK = "queries.jsonl"
# What a folder entry that is neither file nor folder is, for the line that skips it.
NOT_A_FILE = "not a file (a broken link, a pipe or a device)"


def shown(path: Path | str) -> str:
    """Return a file name as one printable line: bytes that are not UTF-8 as `\\xff` escapes,
    and quoted as Python's repr quotes it where it holds a newline or another control
    character (a warning is one line, and a terminal or JSON must never see a surrogate)."""
    text = os.fsencode(path).decode("utf-8", "surrogateescape")
    escaped = escape_bytes(text)
    if escaped.isprintable():
        return escaped
    # repr writes a byte that is not UTF-8 (kept as a lone surrogate) as \udcff: say \xff.
    return re.sub(r"\\udc([89a-f][0-9a-f])", r"\\x\1", repr(text))


def escape_bytes(text: str) -> str:
    """Return a path or name with each byte that is not UTF-8 (os.fsdecode keeps it as a lone
    surrogate, U+DC80..U+DCFF) written `\\xff`: what JSON, a terminal and messages can hold."""
    return re.sub("[\udc80-\udcff]", lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)


def _walk(folder: Path) -> list[Path]:
    """List everything under a folder but folders, following links to folders once each.

    Each folder is entered once (a link back up the tree would loop forever), and real
    folders before linked ones, so a file is found by its own path rather than a link's.
    """
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()
    linked: list[Path] = []

    def visit(directory: Path) -> None:
        try:
            info = directory.stat()
            entries = sorted(directory.iterdir())
        except OSError:
            return
        if (info.st_dev, info.st_ino) in seen:
            return
        seen.add((info.st_dev, info.st_ino))
        for entry in entries:
            if not entry.is_dir():
                found.append(entry)
            elif entry.is_symlink():
                linked.append(entry)
            else:
                visit(entry)

    visit(folder)
    while linked:
        visit(linked.pop(0))
    return found


def _folder_files(folder: Path) -> list[Path]:
    """List a folder's files (and what is neither file nor folder: a broken link, a pipe),
    leaving out hidden ones and question-set folders."""
    everything = _walk(folder)
    sets = {p.parent for p in everything if p.name == QUESTION_SET_MARK}
    return sorted(
        p
        for p in everything
        if not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and not any(s == p.parent or s in p.parents for s in sets)
    )


def scan_corpus(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Split the files of the given files and folders into readable and unsupported ones.

    Raises:
        CorpusError: a path does not exist or is no file or folder, a file named directly has
            no reader, or no document is found at all.
    """
    files: list[Path] = []
    unsupported: list[Path] = []
    given = list(paths)
    for path in given:
        if path.is_dir():
            for found in _folder_files(path):
                (files if found.is_file() and reader_for(found) else unsupported).append(found)
        elif path.is_file():
            if reader_for(path) is None:
                raise CorpusError(
                    f"cannot read {path}: unsupported format (qabot reads "
                    f"{', '.join(supported_suffixes())})"
                )
            files.append(path)
        elif path.is_symlink() or path.exists():
            raise CorpusError(
                f"corpus path {path} is neither a file nor a folder (a broken link, a pipe or a "
                "device)",
                remedy=Remedy.CORPUS_PATH,
            )
        else:
            raise CorpusError(f"corpus path {path} does not exist", remedy=Remedy.CORPUS_PATH)
    # A file named twice, or inside a folder also named (`--corpus DIR --corpus DIR/a.md`), once
    # (a link to it is another path: load_documents keeps one of their texts).
    unique: dict[str, Path] = {}
    for f in files:
        unique.setdefault(os.path.abspath(f), f)
    files = list(unique.values())
    if not files:
        where = ", ".join(str(p) for p in given) or "(none)"
        raise CorpusError(
            f"no corpus files ({', '.join(supported_suffixes())}) found in {where}",
            remedy=Remedy.CORPUS_PATH,
        )
    return files, unsupported


def find_corpus_files(paths: Iterable[Path]) -> list[Path]:
    """List the readable files of the given files and folders, in a stable order."""
    return scan_corpus(paths)[0]


def _doc_ids(files: Sequence[Path]) -> list[str]:
    """Name each document by its file stem; where stems clash, by as few parent folders as
    tell them apart (`a/x/n`, `b/x/n`), and with the suffix where only it does (`notes.md`,
    `notes.txt`): no two documents share a name, or their citations would."""
    ids = [f.stem for f in files]
    groups: dict[str, list[int]] = {}
    for i, f in enumerate(files):
        groups.setdefault(f.stem, []).append(i)
    for same in groups.values():
        if len(same) > 1:
            for i, name in zip(same, _distinct([files[i] for i in same]), strict=True):
                ids[i] = name
    # A name's bytes that are not UTF-8 become `\\xff` escapes: ids go into JSON and messages.
    return [escape_bytes(doc) for doc in ids]


def _distinct(paths: Sequence[Path]) -> list[str]:
    """Return names for files of one stem that differ: the stem (then the file name) after as
    few of its parent folders as it takes."""
    deepest = max(len(p.parts) for p in paths)
    for last in ("stem", "name"):
        for depth in range(1 if last == "stem" else 0, deepest):
            names = ["/".join([*p.parts[-1 - depth : -1], getattr(p, last)]) for p in paths]
            if len(set(names)) == len(names):
                return names
    return [str(p) for p in paths]  # not reached: scan_corpus keeps each file once


def read_source(path: Path) -> Source:
    """Read one file as its reader understands it.

    Raises:
        CorpusError: the file cannot be read.
    """
    reader = reader_for(path)
    if reader is None:  # scan_corpus lets only readable files through
        raise CorpusError(f"cannot read {path}: unsupported format")
    try:
        empty = path.stat().st_size == 0
    except OSError:
        empty = False  # the reader says why it cannot read it
    # An empty file has no text, whatever its format (a .docx or .pdf is not "damaged").
    return Source("") if empty else reader(path)


def read_document(path: Path, doc: str, source: Source | None = None) -> Document | None:
    """Read (unless its source is given) and cut one file; None when it holds no text.

    Raises:
        CorpusError: the file cannot be read.
    """
    source = source or read_source(path)
    paragraphs = parse_text(
        source.text,
        doc,
        source.title,
        paged=source.paged,
        line_paragraphs=source.line_paragraphs,
        fences=source.fences,
    )
    if not paragraphs:
        return None
    return Document(doc, path, source.title or doc, tuple(paragraphs), _digest(source))


def _digest(source: Source) -> str:
    return hashlib.sha256(source.text.encode("utf-8")).hexdigest()


def load_documents(paths: Iterable[Path]) -> tuple[list[Document], list[str]]:
    """Parse every document of the corpus.

    A file named directly that cannot be read is an error; a file found inside a folder that
    cannot be read, or whose format is not supported, is skipped with a warning, so the other
    documents are still indexed; so is a copy of another file's text (one file is kept:
    named directly, not a link, in the shallowest folder, first by name).

    Returns:
        The documents, and one warning line per skipped or empty file.
    """
    given = list(paths)
    explicit = {p.resolve() for p in given if p.is_file()}
    files, unsupported = scan_corpus(given)
    warnings = [
        f"skipped {shown(p.name)}: " + ("unsupported format" if p.is_file() else NOT_A_FILE)
        for p in unsupported
    ]
    sources: list[tuple[Path, Source]] = []
    for path in files:
        try:
            source = read_source(path)
        except CorpusError as exc:
            if path.resolve() in explicit:
                raise
            warnings.append(f"skipped: {str(exc).replace(str(path), shown(path))}")
            continue
        if source.text.strip():
            sources.append((path, source))
        else:
            warnings.append(f"skipped: {shown(path)} has no text")
    kept = _without_copies(sources, explicit, warnings)
    documents: list[Document] = []
    # Named once the copies are gone: a copy in another folder does not lengthen the names.
    for (path, source), doc in zip(kept, _doc_ids([p for p, _ in kept]), strict=True):
        document = read_document(path, doc, source)
        if document is None:
            warnings.append(f"skipped: {shown(path)} has no text")
            continue
        documents.append(document)
    if not documents:
        raise CorpusError("no readable text in the corpus: " + "; ".join(warnings))
    return documents, warnings


def _without_copies(
    sources: list[tuple[Path, Source]], explicit: set[Path], warnings: list[str]
) -> list[tuple[Path, Source]]:
    """Return the sources without copies of another's text (a backup, a link to a file of the
    corpus: they would cite every paragraph twice), in their order; say each one dropped."""
    by_text: dict[str, list[int]] = {}
    for i, (_, source) in enumerate(sources):
        by_text.setdefault(_digest(source), []).append(i)

    def preference(i: int) -> tuple[bool, bool, int, int]:
        path = sources[i][0]
        return (path.resolve() not in explicit, path.is_symlink(), len(path.parts), i)

    dropped = set()
    for same in by_text.values():
        kept = min(same, key=preference)
        for i in sorted(set(same) - {kept}):
            copy, original = shown(sources[i][0]), shown(sources[kept][0])
            warnings.append(f"skipped: {copy} has the same text as {original}")
            dropped.add(i)
    return [s for i, s in enumerate(sources) if i not in dropped]


def corpus_fingerprint(files: Sequence[Path]) -> str:
    """Return a hash of the corpus files' bytes and the parser version, without parsing them.

    This is what decides whether an index is stale; it reads the files but does not parse
    them, so checking a large corpus costs milliseconds. Unreadable files count too, so that
    fixing one makes the index stale.
    """
    h = hashlib.sha256(f"parser-{PARSER_VERSION}".encode())
    for path, doc in zip(files, _doc_ids(files), strict=True):
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            digest = f"unreadable:{exc.errno}"
        h.update(f"\0{doc}\0{digest}".encode("utf-8", "surrogateescape"))
    return h.hexdigest()
