"""Eval: score the ranking on question sets with known answers (BEIR sets, the gold set, votes)."""
