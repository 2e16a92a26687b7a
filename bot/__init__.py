"""qabot's front ends over the retrieval engine: the terminal CLI and the Telegram bot."""
