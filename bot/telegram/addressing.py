"""Which messages are meant for the bot (in a group, few are), and the question they ask."""

from __future__ import annotations

import re

from telegram import Bot, Message
from telegram.constants import ChatType

from bot.telegram.format import (
    HINT_EMPTY,
    HINT_EMPTY_MENTION,
    HINT_EMPTY_PRIVATE,
    mentions,
    question_from_header,
    strip_addressing,
    with_example,
)

# The commands the bot has; any other (or one addressed @another_bot) is not meant for it.
COMMANDS = ("start", "help", "p", "ask", "reindex")
_COMMAND = re.compile(r"/([A-Za-z0-9_]+)(?:@([A-Za-z0-9_]+))?(?=\s|$)")
_ASK = re.compile(r"/ask(?![A-Za-z0-9_])", re.IGNORECASE)


def replies_to_bot(message: Message, bot_id: int) -> bool:
    """Return True if the message is a reply to one of the bot's own messages."""
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == bot_id)


def addressed_question(message: Message, bot: Bot) -> str | None:
    """Return the question of a text message meant for the bot, None for group chatter."""
    text = message.text or ""
    if (
        message.chat.type == ChatType.PRIVATE
        or mentions(text, bot.username)
        or replies_to_bot(message, bot.id)
    ):
        return strip_addressing(text, bot.username)
    return None


def meant_for_bot(message: Message, bot: Bot) -> bool:
    """Return True for a message the bot acts on: not chatter, not another bot's command."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    command = _COMMAND.match(message.text or "")
    if command is not None:
        name, to = command.group(1).lower(), command.group(2)
        return name in COMMANDS and (to is None or to.lower() == bot.username.lower())
    return addressed_question(message, bot) is not None


def quoted_question(message: Message, bot: Bot) -> str:
    """Return the text of the message this one replies to, unless it is the bot's own."""
    replied = message.reply_to_message
    if replied is None or not replied.text or replies_to_bot(message, bot.id):
        return ""
    return strip_addressing(replied.text, bot.username)


def answered_question(message: Message, bot: Bot) -> str | None:
    """Read the question an answer message answers: its first line, or the message it quotes."""
    question = question_from_header(message.text)
    replied = message.reply_to_message
    if question is None and replied is not None and replied.text:
        question = strip_addressing(replied.text, bot.username) or None
    return question


def empty_hint(message: Message, bot: Bot, example: str | None) -> str:
    """Say where the question goes, in the words of the way the user addressed the bot."""
    if _ASK.match(message.text or ""):
        hint = HINT_EMPTY
    elif message.chat.type == ChatType.PRIVATE:
        hint = HINT_EMPTY_PRIVATE
    else:
        hint = HINT_EMPTY_MENTION.format(name=bot.username)
    return with_example(hint, example)
