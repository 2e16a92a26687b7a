"""Store: keep vectors and paragraphs (FAISS or Milvus) in an index directory, build and load it."""
