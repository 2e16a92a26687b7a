"""What the Telegram bot does with each update: questions, commands, buttons, inline queries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.telegram.addressing import (
    COMMANDS,
    addressed_question,
    answered_question,
    empty_hint,
    meant_for_bot,
    quoted_question,
    replies_to_bot,
)
from bot.telegram.buttons import (
    ASK,
    CONTEXT,
    MORE,
    MOVE,
    VOTE,
    Press,
    answer_keyboard,
    context_keyboard,
    doc_key,
    examples_keyboard,
    parse_press,
    text_hash,
    without_more,
)
from bot.telegram.feedback import append_vote
from bot.telegram.flood import QuestionLimit
from bot.telegram.format import (
    CHANGED,
    ERROR,
    FLOOD,
    GONE,
    GREETING,
    GREETING_GROUP,
    HELP,
    HINT_NOT_TEXT,
    LOST_QUESTION,
    NOT_ADMIN,
    REFUSED,
    REINDEX_BUSY,
    REINDEX_DONE,
    REINDEX_FAILED,
    REINDEX_SKIPPED,
    REINDEX_STARTED,
    STALE,
    STORE_DOWN,
    UNKNOWN_COMMAND,
    VOTE_LOST,
    VOTED,
    clean_question,
    escape,
    question_problem,
    render_answer,
    render_context,
    render_inline,
    with_example,
)
from bot.telegram.presses import FOREVER, PressMemory
from bot.telegram.settings import BotSettings
from retrieval.engine import Engine
from retrieval.errors import QabotError, StoreError
from retrieval.ingest.files import escape_bytes, scan_corpus, shown
from retrieval.search import Answer, BadParagraphRef, Searcher, small_talk
from retrieval.search.refs import split_doc_numbers

logger = logging.getLogger(__name__)

T = TypeVar("T")
Context = ContextTypes.DEFAULT_TYPE

# Questions are encoded on CPU; a few threads keep one slow question from holding up the rest.
SEARCH_THREADS = 4
TYPING_AFTER = 0.5  # seconds a search may take before the chat shows "typing…"
INLINE_RESULTS = 5
INLINE_MAX = 50
INLINE_CACHE_SECONDS = 30
# The offsets this bot gives inline mode: a number of results already shown.
_INLINE_OFFSET = re.compile(r"[0-9]{1,4}")
# A button that stays under its message (📖 §N, an example question) pressed again this soon
# by the same person is a double tap: answered quietly, not sent twice. Later it works again.
DOUBLE_TAP_SECONDS = 2.0
# Inline mode's own limit, in times the chat's: a client asks again as the question is typed
# (at each pause, each edit) and for each page of results, so one question is several queries.
INLINE_QUERIES_PER_QUESTION = 5
# Ways of writing a paragraph's number: as answers cite it (§12), and as people do (#12, ¶12).
NUMBER_MARKS = "§#¶"
# A message that is a citation copied from an answer, `§12`: it asks for that paragraph.
_CITATION = re.compile(r"§\s*([0-9]{1,6})")
# `/p12`: /p with its number run on, which Telegram reads as another command.
_GLUED_PARAGRAPH = re.compile(r"/p([0-9]{1,6})(?:@[A-Za-z0-9_]+)?", re.IGNORECASE)
# Skipped files a /reindex reply names; the rest are only counted.
SKIPPED_NAMED = 3


def _is_number(word: str) -> bool:
    try:
        int(word)
    except ValueError:
        return False
    return True


def _example_ref(last: int) -> str:
    return f"例如：/p {min(12, last)}"


def paragraph_usage(documents: Sequence[str], last: int) -> str:
    """Say how /p names a paragraph: which document, if there are several; else the range."""
    if len(documents) > 1:
        return (
            f"资料有 {len(documents)} 份文档，请写明是哪一份：/p 文档 N（{'、'.join(documents)}）"
        )
    return f"用法：/p N，段落编号为 1–{last}，{_example_ref(last)}"


def paragraph_ref_problem(problem: BadParagraphRef) -> str:
    """Say in one line, in Chinese, why the words after /p name no paragraph."""
    last = problem.last
    if problem.reason == "no_doc":
        return f"没有文档「{problem.doc}」。文档有：{'、'.join(problem.documents)}"
    if problem.reason == "not_number":
        return f"「{problem.given}」不是段落编号；段落编号为 1–{last}，{_example_ref(last)}"
    if problem.reason == "out_of_range":
        return f"没有第 {problem.given} 段；段落编号为 1–{last}。"
    # "which_doc" (several documents, none named) or "missing" (one document, no number).
    return paragraph_usage(problem.documents, last)


def _number_word(word: str) -> str:
    """Return a paragraph number written `§12` or `#12` as `12`; any other word as it is."""
    bare = word.lstrip(NUMBER_MARKS)
    return bare if bare != word and _is_number(bare) else word


def paragraph_words(args: Sequence[str], documents: Sequence[str]) -> list[str]:
    """Return the words after /p as `N` or `DOC N` for Searcher.paragraph_ref.

    A number may be written as answers cite it (`§12`, `§ 12`) or `#12`, a paragraph as the
    votes file names it (`DOC#12`), and a document whose name has spaces in it by that name,
    with or without its spaces (`/p 晋中 新闻 1`).
    """
    words = [_number_word(w) for w in split_doc_numbers(args) if w.strip(NUMBER_MARKS)]
    if len(words) > 2 and " ".join(words[:-1]) in documents:
        return [" ".join(words[:-1]), words[-1]]
    if len(words) >= 2 and _is_number(words[-1]) and words[0] not in documents:
        squeezed = "".join(words[:-1])
        named = [d for d in documents if "".join(d.split()) == squeezed]
        if len(named) == 1:
            return [named[0], words[-1]]
    return words


def skipped_files(corpus: Sequence[Path], documents: Sequence[dict[str, object]]) -> list[Path]:
    """Return the corpus files that are not among the index's documents (they were skipped:
    unreadable, of no supported format, empty, or a copy of another)."""
    indexed = {os.path.abspath(str(d.get("path"))) for d in documents}
    found, unsupported = scan_corpus(corpus)
    # The manifest writes bytes of a name that are not UTF-8 as \xff escapes.
    return [f for f in [*found, *unsupported] if escape_bytes(os.path.abspath(f)) not in indexed]


def _thread_of(message: Message | None) -> int | None:
    """Return the forum topic of a message, where replies to it belong (send_message, unlike
    Message.reply_text, does not put them there by itself)."""
    return message.message_thread_id if message is not None and message.is_topic_message else None


async def _answer_press(
    query: CallbackQuery, text: str | None = None, show_alert: bool | None = None
) -> None:
    """Answer a button press, which stops its spinner; one too old to answer is let go.

    Telegram refuses answers to presses older than a few seconds, which presses queued while
    the bot was down are; what the press asked for is still worth sending.
    """
    try:
        await query.answer(text, show_alert=show_alert)
    except BadRequest as exc:
        logger.debug("could not answer a button press: %s", exc)


def extra_words_usage(searcher: Searcher) -> str:
    """Say that /p takes a paragraph number (or DOC N) and nothing more, with the range."""
    documents = searcher.index.documents
    found = searcher.index.doc_range(documents[0]) if documents else None
    usage = paragraph_usage(documents, found[1] if found else 0)
    return f"/p 后面只写段落编号（或 文档 N），不加别的字。{usage}"


class QABot:
    """What the bot does with each kind of update, answering from one engine."""

    def __init__(self, settings: BotSettings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.limit = QuestionLimit(settings.rate_limit)
        # Its own limit: typing in inline mode must not use up the questions of the chat.
        self.inline_limit = QuestionLimit(settings.rate_limit * INLINE_QUERIES_PER_QUESTION)
        self._pool = ThreadPoolExecutor(SEARCH_THREADS, thread_name_prefix="qabot-search")
        self._reindexing = asyncio.Lock()
        # "More results" (chat, message, offset) is remembered for good, so a double tap sends
        # the page once; a used button is gone from the message, so only the latest presses
        # need remembering. A button that stays (chat, message, user, data) only for a moment.
        self.presses = PressMemory(
            {MORE: FOREVER, ASK: DOUBLE_TAP_SECONDS, CONTEXT: DOUBLE_TAP_SECONDS}
        )

    def install(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Register the handlers: access first, then commands, questions, buttons, inline."""
        message = filters.UpdateType.MESSAGE
        private = filters.ChatType.PRIVATE
        app.add_handler(TypeHandler(Update, self.gate), group=-1)
        callbacks = (self.start, self.help, self.paragraph, self.ask, self.reindex)
        for name, callback in zip(COMMANDS, callbacks, strict=True):
            app.add_handler(CommandHandler(name, callback, filters=message))
        app.add_handler(MessageHandler(message & filters.TEXT & ~filters.COMMAND, self.on_text))
        app.add_handler(MessageHandler(message & filters.COMMAND & private, self.on_unknown))
        app.add_handler(
            MessageHandler(message & ~filters.TEXT & ~filters.StatusUpdate.ALL, self.on_other)
        )
        app.add_handler(CallbackQueryHandler(self.on_press))
        app.add_handler(InlineQueryHandler(self.on_inline))
        app.add_error_handler(self.on_error)

    async def close(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Let the search threads go when the Application shuts down."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _in_thread(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, partial(function, *args)
        )

    def _example(self) -> str | None:
        return self.settings.examples[0] if self.settings.examples else None

    async def _search(
        self,
        bot: Bot,
        chat_id: int | None,
        question: str,
        offset: int = 0,
        k: int = 0,
        thread_id: int | None = None,
    ) -> tuple[Answer, Searcher]:
        searcher = self.engine.searcher  # one searcher per question, even if /reindex swaps it
        job = asyncio.ensure_future(
            self._in_thread(searcher.search, question, k or self.settings.k, offset)
        )
        try:
            answer = await asyncio.wait_for(asyncio.shield(job), TYPING_AFTER)
        except asyncio.TimeoutError:
            if chat_id is not None:
                with contextlib.suppress(TelegramError):
                    await bot.send_chat_action(
                        chat_id, ChatAction.TYPING, message_thread_id=thread_id
                    )
            answer = await job
        return answer, searcher

    async def _send(
        self,
        bot: Bot,
        chat_id: int,
        parts: Sequence[str],
        keyboard: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> None:
        """Send the parts of a reply in order (in a forum topic, in that topic), the keyboard
        under the last one."""
        quote = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            await bot.send_message(
                chat_id,
                part,
                reply_parameters=quote,
                reply_markup=keyboard if last else None,
                message_thread_id=thread_id,
            )

    async def _send_answer(
        self,
        bot: Bot,
        chat_id: int,
        answer: Answer,
        searcher: Searcher,
        reply_to: int | None,
        thread_id: int | None,
    ) -> None:
        several = len(searcher.index.documents) > 1
        keyboard = answer_keyboard(answer, feedback=self.settings.feedback_file is not None)
        await self._send(
            bot, chat_id, render_answer(answer, several), keyboard, reply_to, thread_id
        )

    async def _answer(self, update: Update, context: Context, question: str) -> None:
        """Answer a question asked in a message, replying to that message."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        talk = small_talk(question) if question else None
        reply_to = message.message_id
        # A bare mention or /ask (or `@bot ?`) in reply to someone's message asks that
        # message's question.
        if not question or talk == "help":
            quoted, replied = quoted_question(message, context.bot), message.reply_to_message
            if quoted and replied is not None:
                question, talk = quoted, small_talk(quoted)
                # The answer replies to the question's own message, where "more results" can
                # read the question back (the bare mention holds none) under any of its parts.
                reply_to = replied.message_id
        if not question:
            await message.reply_text(escape(empty_hint(message, context.bot, self._example())))
            return
        if talk == "help":
            await self.help(update, context)
            return
        cited = _CITATION.fullmatch(question)
        if cited:  # `§12`, copied from an answer: the paragraph, as /p 12 shows it
            await self._show_paragraph(context.bot, message, [cited.group(1)])
            return
        problem = question_problem(question, self._example())
        if problem:
            await message.reply_text(escape(problem))
            return
        admission = self.limit.admit(user.id)
        if not admission.allowed:
            if admission.warn:
                await message.reply_text(FLOOD.format(seconds=math.ceil(admission.retry_in)))
            return
        thread_id = _thread_of(message)
        answer, searcher = await self._search(
            context.bot, message.chat_id, question, thread_id=thread_id
        )
        await self._send_answer(context.bot, message.chat_id, answer, searcher, reply_to, thread_id)

    async def gate(self, update: Update, context: Context) -> None:
        """Stop updates from people the allowlist leaves out, politely where they asked."""
        user, chat = update.effective_user, update.effective_chat
        if self.settings.allows(user.id if user else None, chat.id if chat else None):
            return
        logger.info(
            "refused user %s in chat %s", user.id if user else "?", chat.id if chat else "?"
        )
        refusal = REFUSED.format(id=user.id if user else "?")
        try:
            if update.callback_query:
                await update.callback_query.answer(refusal, show_alert=True)
            elif update.inline_query:
                await update.inline_query.answer([], cache_time=0, is_personal=True)
            elif update.message and meant_for_bot(update.message, context.bot):
                await update.message.reply_text(escape(refusal))
        except TelegramError as exc:
            # An error here must not let the update through to the handlers: it is logged,
            # and the update stops here all the same.
            logger.info(
                "could not tell user %s they are refused: %s", user.id if user else "?", exc
            )
        raise ApplicationHandlerStop

    async def start(self, update: Update, context: Context) -> None:
        """Greet, with example questions as buttons that ask them (and, in a group, how to ask)."""
        message = update.effective_message
        if message is None:
            return
        keyboard = examples_keyboard(self.settings.examples)
        tail = "，试试这些例子：" if keyboard else "。"
        if message.chat.type == ChatType.PRIVATE:
            text = GREETING.format(tail=tail)
        else:
            text = GREETING_GROUP.format(name=escape(context.bot.username), tail=tail)
        await message.reply_text(text, reply_markup=keyboard)

    async def help(self, update: Update, context: Context) -> None:
        """Say how to ask and what the bot knows: documents, paragraphs, date of the index."""
        index = self.engine.searcher.index
        manifest = index.manifest
        docs = "\n".join(
            f"• {escape(str(d.get('doc')))}：{d.get('paragraphs')} 段" for d in manifest.documents
        )
        several = len(manifest.documents) > 1
        text = HELP.format(
            k=self.settings.k,
            doc_hint="（多份文档时：/p 文档 N）" if several else "",
            name=escape(context.bot.username),
            docs=docs,
            count=manifest.count,
            date=escape(manifest.created[:10]),
        )
        user = update.effective_user
        if user and user.id in self.settings.admins:
            text += "\n\n管理员：/reindex 重新加载资料和索引"
        if update.effective_message:
            await update.effective_message.reply_text(text)

    async def paragraph(self, update: Update, context: Context) -> None:
        """Show paragraph N (or DOC N) with its neighbours; explain a bad N with the range."""
        message = update.effective_message
        if message is not None:
            await self._show_paragraph(context.bot, message, context.args or [])

    async def _show_paragraph(self, bot: Bot, message: Message, args: Sequence[str]) -> None:
        """Show the paragraph the words after /p name, in reply to the message."""
        searcher = self.engine.searcher
        words = paragraph_words(args, searcher.index.documents)
        try:
            doc, number = searcher.paragraph_ref(words)
        except BadParagraphRef as problem:
            # `/p 17 extra`: a number with words after it, not a document named "17".
            extra = len(words) > 2 or (problem.reason == "no_doc" and _is_number(words[0]))
            text = extra_words_usage(searcher) if extra else paragraph_ref_problem(problem)
            await message.reply_text(escape(text))
            return
        await self._send_context(bot, message.chat_id, searcher, doc, number, message)

    async def _send_context(
        self,
        bot: Bot,
        chat_id: int,
        searcher: Searcher,
        doc: str,
        number: int,
        reply_to: Message | None = None,
        replace: Message | None = None,
    ) -> None:
        """Send paragraph number of doc with its neighbours, or show it in place of `replace`."""
        index = searcher.index
        paragraphs = searcher.neighbours(doc, number)
        parts = render_context(paragraphs, number, len(index.documents) > 1)
        keyboard = context_keyboard(
            doc,
            number,
            index.row_of(doc, number - 1) is not None,
            index.row_of(doc, number + 1) is not None,
        )
        if replace is not None and len(parts) == 1:
            try:
                await replace.edit_text(parts[0], reply_markup=keyboard)
            except BadRequest as exc:
                # A double tap on ◂/▸: the message already shows this paragraph.
                if "not modified" not in exc.message.lower():
                    raise
            return
        await self._send(
            bot,
            chat_id,
            parts,
            keyboard,
            reply_to.message_id if reply_to else None,
            _thread_of(reply_to),
        )

    async def ask(self, update: Update, context: Context) -> None:
        """Answer /ask question (the way to ask in a group without a mention)."""
        await self._answer(update, context, clean_question(" ".join(context.args or [])))

    async def on_text(self, update: Update, context: Context) -> None:
        """Answer a text message: any in a private chat, only those addressed to it in a group."""
        if update.message is None:
            return
        question = addressed_question(update.message, context.bot)
        if question is not None:
            await self._answer(update, context, question)

    async def on_unknown(self, update: Update, context: Context) -> None:
        """Point to /help for a command the bot does not have (in a private chat); `/p12` is
        /p 12."""
        message = update.message
        if message is None:
            return
        glued = _GLUED_PARAGRAPH.fullmatch((message.text or "").strip())
        if glued:
            await self._show_paragraph(context.bot, message, [glued.group(1)])
            return
        await message.reply_text(UNKNOWN_COMMAND)

    async def on_other(self, update: Update, context: Context) -> None:
        """Give a hint for stickers, photos, voice and files (in a group, only if addressed)."""
        message = update.message
        if message is None:
            return
        if message.chat.type == ChatType.PRIVATE or replies_to_bot(message, context.bot.id):
            await message.reply_text(escape(with_example(HINT_NOT_TEXT, self._example())))

    async def reindex(self, update: Update, context: Context) -> None:
        """Reload the corpus and index without a restart (admins only)."""
        message, user = update.effective_message, update.effective_user
        if message is None:
            return
        if user is None or user.id not in self.settings.admins:
            await message.reply_text(NOT_ADMIN)
            return
        if self._reindexing.locked():
            await message.reply_text(REINDEX_BUSY)
            return
        async with self._reindexing:
            await message.reply_text(REINDEX_STARTED)
            with contextlib.suppress(TelegramError):
                await context.bot.send_chat_action(message.chat_id, ChatAction.TYPING)
            try:
                # Searches already under way keep the searcher they started with.
                searcher = await self._in_thread(self.engine.reload)
            except QabotError as exc:
                await message.reply_text(escape(REINDEX_FAILED.format(error=exc.message)))
                return
        manifest = searcher.index.manifest
        text = REINDEX_DONE.format(docs=len(manifest.documents), count=manifest.count)
        try:  # the new index is in use whatever happens here
            skipped = await self._in_thread(
                skipped_files, self.engine.settings.corpus, manifest.documents
            )
        except (QabotError, OSError) as exc:
            logger.info("could not list the files /reindex left out: %s", exc)
            skipped = []
        if skipped:
            names = "、".join(shown(f.name) for f in skipped[:SKIPPED_NAMED])
            more = "等" if len(skipped) > SKIPPED_NAMED else ""
            text += "\n" + escape(REINDEX_SKIPPED.format(count=len(skipped), names=names + more))
        await message.reply_text(text)

    async def on_press(self, update: Update, context: Context) -> None:
        """Act on a button: more results, a paragraph in context, an example, a vote."""
        query = update.callback_query
        if query is None:
            return
        press = parse_press(query.data)
        message = query.message if isinstance(query.message, Message) else None
        if press is None or message is None:
            await _answer_press(query, STALE, show_alert=True)
            return
        if press.action in (ASK, CONTEXT) and self.presses.double_tap(
            press.action, (message.chat_id, message.message_id, query.from_user.id, query.data)
        ):
            await _answer_press(query)  # the answer to the first tap is on its way
            return
        if press.action in (MORE, ASK):
            await self._press_question(update, context, press, message)
        elif press.action == VOTE:
            await self._press_vote(update, context, press, message)
        else:
            await self._press_context(update, context, press, message)

    async def _press_question(
        self, update: Update, context: Context, press: Press, message: Message
    ) -> None:
        query = update.callback_query
        assert query is not None
        question = press.question or answered_question(message, context.bot)
        if not question:
            await _answer_press(query, LOST_QUESTION, show_alert=True)
            return
        # An example that is small talk (`你好`), or data made by hand (`q|👍`): the hint, as
        # for a message, and no question counted.
        problem = question_problem(question, self._example())
        if problem:
            await _answer_press(query, problem, show_alert=True)
            return
        if press.action == ASK:
            await self._ask_pressed(update, context, question, press, message)
            return
        # Checked and marked before the first await: presses are handled concurrently.
        pressed = (message.chat_id, message.message_id, press.offset)
        if self.presses.double_tap(MORE, pressed):
            await _answer_press(query)  # the page is on its way, or already sent
            return
        sent = False
        try:
            sent = await self._ask_pressed(update, context, question, press, message)
        finally:
            if not sent:  # refused or failed: the button may be tried again
                self.presses.forget(MORE, pressed)

    async def _ask_pressed(
        self, update: Update, context: Context, question: str, press: Press, message: Message
    ) -> bool:
        """Send the answer (or its next page) a button asks for; False if the rate limit refuses."""
        query, user = update.callback_query, update.effective_user
        assert query is not None and user is not None
        admission = self.limit.admit(user.id)
        if not admission.allowed:
            flood = FLOOD.format(seconds=math.ceil(admission.retry_in))
            await _answer_press(query, flood, show_alert=True)
            return False
        await _answer_press(query)
        thread_id = _thread_of(message)
        answer, searcher = await self._search(
            context.bot, message.chat_id, question, press.offset, thread_id=thread_id
        )
        if press.action == ASK:
            await self._send_answer(context.bot, message.chat_id, answer, searcher, None, thread_id)
            return True
        replied = message.reply_to_message
        reply_to = replied.message_id if replied else None
        await self._send_answer(context.bot, message.chat_id, answer, searcher, reply_to, thread_id)
        with contextlib.suppress(BadRequest):  # the old message may be gone or too old to edit
            await message.edit_reply_markup(reply_markup=without_more(message.reply_markup))
        return True

    def _doc_of(self, searcher: Searcher, key: str) -> str | None:
        return next((d for d in searcher.index.documents if doc_key(d) == key), None)

    def _pressed_paragraph(self, searcher: Searcher, press: Press) -> tuple[str | None, str]:
        """Return the document of the paragraph a button was made for, and what to say
        instead of acting on it: GONE, CHANGED (a /reindex gave its number to another), ""."""
        doc = self._doc_of(searcher, press.doc_key)
        row = None if doc is None else searcher.index.row_of(doc, press.number)
        if row is None:
            return doc, GONE
        if press.text_hash and press.text_hash != text_hash(searcher.index.paragraphs[row].text):
            return doc, CHANGED
        return doc, ""

    async def _press_context(
        self, update: Update, context: Context, press: Press, message: Message
    ) -> None:
        query = update.callback_query
        assert query is not None
        searcher = self.engine.searcher
        doc, problem = self._pressed_paragraph(searcher, press)
        if doc is None or problem:
            await _answer_press(query, problem or GONE, show_alert=True)
            return
        await _answer_press(query)
        if press.action == MOVE:
            await self._send_context(
                context.bot, message.chat_id, searcher, doc, press.number, replace=message
            )
        else:
            await self._send_context(
                context.bot, message.chat_id, searcher, doc, press.number, reply_to=message
            )

    async def _press_vote(
        self, update: Update, context: Context, press: Press, message: Message
    ) -> None:
        query = update.callback_query
        assert query is not None
        path = self.settings.feedback_file
        doc, problem = self._pressed_paragraph(self.engine.searcher, press)
        question = answered_question(message, context.bot)
        if problem == CHANGED:  # the vote would count for another paragraph
            await _answer_press(query, CHANGED, show_alert=True)
            return
        if path is None or doc is None or problem or question is None:
            await _answer_press(query, VOTE_LOST)
            return
        await self._in_thread(
            append_vote, path, question, f"{doc}#{press.number}", press.vote, query.from_user.id
        )
        await _answer_press(query, VOTED.format(thumb="👍" if press.vote > 0 else "👎"))

    async def on_inline(self, update: Update, context: Context) -> None:
        """Offer the passages for `@bot question` typed in any chat, a page at a time."""
        query, user = update.inline_query, update.effective_user
        if query is None or user is None:
            return
        question = clean_question(query.query)
        # The offset is one this bot gave ("" for the first page); anything else ends the list
        # (read as 0, it would start the results again, for ever).
        given = query.offset or "0"
        offset = int(given) if _INLINE_OFFSET.fullmatch(given) else INLINE_MAX
        if len(question) < 2 or question_problem(question) or offset >= INLINE_MAX:
            await query.answer([], cache_time=INLINE_CACHE_SECONDS)
            return
        # A refusal cannot be shown here: it is no warning (flood.py).
        if not self.inline_limit.admit(user.id, shown=False).allowed:
            await query.answer([], cache_time=0, is_personal=True)
            return
        answer, searcher = await self._search(context.bot, None, question, offset, INLINE_RESULTS)
        several = len(searcher.index.documents) > 1
        unsure = "🤔 " if answer.confident is False else ""
        results = [
            InlineQueryResultArticle(
                id=str(p.rank),
                title=f"{unsure}§{p.paragraph.number} · {p.paragraph.section}"[:100],
                description=p.paragraph.text[:120],
                input_message_content=InputTextMessageContent(
                    render_inline(answer, p, several), parse_mode=ParseMode.HTML
                ),
            )
            for p in answer.passages
        ]
        last = answer.passages[-1].rank if answer.passages else offset
        more = last < answer.total and last < INLINE_MAX
        # None, not "": with Defaults set, python-telegram-bot 22 sends "" as "[]" (an empty
        # sequence to it), which the client sends back as the next offset.
        await query.answer(
            results, cache_time=INLINE_CACHE_SECONDS, next_offset=str(last) if more else None
        )

    async def on_error(self, update: object, context: Context) -> None:
        """Log the error first, then tell the person something went wrong; the bot goes on."""
        if update is None and isinstance(context.error, NetworkError):
            logger.warning("Bot API unreachable for a moment: %s", context.error)
            return
        logger.error("error while handling an update", exc_info=context.error)
        if not isinstance(update, Update):
            return
        # The vector store being down (a Milvus server restarting) is worth saying as such.
        apology = STORE_DOWN if isinstance(context.error, StoreError) else ERROR
        with contextlib.suppress(TelegramError):
            if update.effective_chat is not None:
                await context.bot.send_message(
                    update.effective_chat.id,
                    apology,
                    message_thread_id=_thread_of(update.effective_message),
                )
            elif update.callback_query is not None:
                await update.callback_query.answer(apology, show_alert=True)
