"""Helpers shared by the tests and the benchmarks (a local Bot API server, running qabot)."""
