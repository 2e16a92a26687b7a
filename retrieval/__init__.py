"""qabot's retrieval engine: documents -> paragraphs -> vectors -> index -> ranked passages."""

from __future__ import annotations

__version__ = "0.1.0"
