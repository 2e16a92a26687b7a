"""Search: rank paragraphs for a question (lexical, dense, fusion, re-ranking), confidence."""
