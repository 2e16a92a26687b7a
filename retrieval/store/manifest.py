"""The index directory's manifest: what built the index and a checksum of each of its files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from retrieval.errors import IndexStateError, Remedy

FORMAT_VERSION = 2
# The files of an index directory (a store adds its own, e.g. vectors.faiss).
MANIFEST = "manifest.json"
EMBEDDINGS = "embeddings.npy"
HASHES = "hashes.json"
BM25_DIR = "bm25"
FULL_HASH_BYTES = 64 * 1024 * 1024
SAMPLES = 256
SAMPLE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Manifest:
    """What built an index, checked on load so a stale index is never used silently."""

    format_version: int
    model: str
    dim: int
    count: int
    corpus_hash: str
    qabot_version: str
    created: str
    index_type: str
    documents: list[dict[str, object]] = field(default_factory=list)
    files: dict[str, dict[str, object]] = field(default_factory=dict)

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        """Read the manifest of an index directory.

        Raises:
            IndexStateError: it is missing or not a manifest of this program.
        """
        path = directory / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except FileNotFoundError as exc:
            raise IndexStateError(f"no index at {directory}", remedy=Remedy.BUILD_INDEX) from exc
        except (OSError, ValueError, TypeError) as exc:
            raise IndexStateError(
                f"the index manifest {path} is unreadable or damaged",
                remedy=Remedy.REBUILD_INDEX,
            ) from exc

    def write(self, directory: Path) -> None:
        """Write the manifest into an index directory."""
        text = json.dumps(asdict(self), ensure_ascii=False, indent=2)
        (directory / MANIFEST).write_text(text, encoding="utf-8")


def file_digest(path: Path) -> dict[str, object]:
    """Return the size and checksum of a file: all of it when small, evenly spaced samples else.

    Hashing a multi-GB index on every start would cost seconds; the size catches truncation,
    and 256 samples of 64 KiB catch garbage written over any sizeable part of the file.
    """
    size = path.stat().st_size
    h = hashlib.sha256()
    with path.open("rb") as fh:
        if size <= FULL_HASH_BYTES:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
            return {"size": size, "sha256": h.hexdigest()}
        for i in range(SAMPLES):
            fh.seek((size - SAMPLE_BYTES) * i // (SAMPLES - 1))
            h.update(fh.read(SAMPLE_BYTES))
    return {"size": size, "sampled_sha256": h.hexdigest()}


def digest_files(directory: Path) -> dict[str, dict[str, object]]:
    """Return the digest of every file below a directory, by path relative to it."""
    return {
        str(path.relative_to(directory)): file_digest(path)
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def verify_files(
    directory: Path, expected: dict[str, dict[str, object]], names: Iterable[str]
) -> None:
    """Check files of an index directory against the manifest.

    Raises:
        IndexStateError: a file is missing, truncated or damaged.
    """
    for name in names:
        path = directory / name
        if name not in expected or not path.is_file() or file_digest(path) != expected[name]:
            raise IndexStateError(
                f"index file {path} is missing or damaged", remedy=Remedy.REBUILD_INDEX
            )


def staleness(manifest: Manifest, model: str, current_corpus_hash: str) -> str | None:
    """Say why an index cannot serve this corpus and model, or None when it can."""
    if manifest.format_version != FORMAT_VERSION:
        return (
            f"the index is in format {manifest.format_version}, this qabot reads "
            f"format {FORMAT_VERSION}"
        )
    if manifest.model != model:
        return f"the index was built with model {manifest.model}, not {model}"
    if manifest.corpus_hash != current_corpus_hash:
        # The hash covers the parser version too: an upgrade may read the same files anew.
        return "the corpus, or how qabot reads it, has changed since the index was built"
    return None
