"""The terminal front end: `qabot ask`, `chat`, `index`, `show`, `eval` and their output."""
