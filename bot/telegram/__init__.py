"""The Telegram front end: `qabot bot` over python-telegram-bot."""
