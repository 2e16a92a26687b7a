"""Training scripts for qabot's own models (not part of the installed package)."""
