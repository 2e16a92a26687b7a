"""The reader's trained part on disk: int8/fp16 tensors in safetensors, checked by SHA-256."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from retrieval.errors import ModelError, Remedy

ARTIFACT_PATH = Path(__file__).with_name("reader-v1.safetensors")
# training/reader.py rewrites this line when it replaces the artifact.
ARTIFACT_SHA256 = "106e39f2170d9cf5a0c26a30006945dc6d839f7fd652cbd7debb4de957b582d7"
FORMAT = "qabot-reader-1"
_SCALE = ".int8_scale"


class ReaderArtifactError(ModelError):
    """The reader artifact is missing, altered or of another format."""

    def __init__(self, message: str) -> None:
        super().__init__(message, remedy=Remedy.REINSTALL, data={"package": "qabot"})


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def quantize_rows(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quantize a 2-D weight to int8 with one fp16 scale per output row (symmetric)."""
    w = weight.astype(np.float32)
    scale = np.maximum(np.abs(w).max(axis=1, keepdims=True), 1e-8) / 127.0
    scale = scale.astype(np.float16).astype(np.float32)
    return np.clip(np.round(w / scale), -127, 127).astype(np.int8), scale.astype(np.float16)


def save_artifact(
    path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str], int8: set[str]
) -> str:
    """Write the trained tensors (int8 per row for those named, fp16 the rest); return SHA-256."""
    out: dict[str, np.ndarray] = {}
    for name, value in sorted(tensors.items()):
        if name in int8:
            out[name], out[name + _SCALE] = quantize_rows(value)
        else:
            out[name] = value.astype(np.float16)
    tmp = path.with_suffix(".tmp")
    save_file(out, str(tmp), metadata={"format": FORMAT, **metadata})
    tmp.replace(path)
    return sha256_file(path)


def read_metadata(path: Path) -> dict[str, str]:
    """Return the safetensors metadata of an artifact without reading its tensors."""
    with open(path, "rb") as handle:
        (size,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(size))
    return dict(header.get("__metadata__", {}))


def load_artifact(
    path: Path = ARTIFACT_PATH, sha256: str | None = ARTIFACT_SHA256
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Load the trained tensors as float32 after checking the file's SHA-256.

    Raises:
        ReaderArtifactError: the file is missing, its checksum differs, or it is not a reader.
    """
    path = Path(path)
    if not path.is_file():
        raise ReaderArtifactError(f"reader artifact {path} not found")
    if sha256 is not None:
        actual = sha256_file(path)
        if actual != sha256:
            raise ReaderArtifactError(
                f"reader artifact {path} has SHA-256 {actual}, expected {sha256}: the file is "
                "corrupt or from another training run"
            )
    metadata = read_metadata(path)
    if metadata.get("format") != FORMAT:
        raise ReaderArtifactError(
            f"{path} is not a {FORMAT} artifact (format {metadata.get('format')!r})"
        )
    raw = load_file(str(path))
    tensors: dict[str, np.ndarray] = {}
    for name, value in raw.items():
        if name.endswith(_SCALE):
            continue
        scale = raw.get(name + _SCALE)
        if scale is not None:
            tensors[name] = value.astype(np.float32) * scale.astype(np.float32)
        else:
            tensors[name] = value.astype(np.float32)
    return tensors, metadata
