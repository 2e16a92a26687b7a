"""The passage reader: re-ranks candidates, tells when a paragraph does not answer, finds spans.

    reader = PassageReader.load()  # ONNX Runtime int8: no torch once its file is cached
    readings = reader.read(question, [p.text for p in candidates])

Modules: inputs (question + paragraph window -> token ids), artifact (the trained tensors,
SHA-256 checked), model (the torch network), runners (torch / ONNX Runtime), reader (the API).
"""

from __future__ import annotations

from retrieval.read.artifact import ReaderArtifactError
from retrieval.read.reader import PassageReader, Reading

__all__ = ["PassageReader", "Reading", "ReaderArtifactError"]
