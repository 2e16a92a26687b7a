"""The bot's words: Telegram HTML for answers and paragraphs, split to fit; hints and replies."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable, Sequence

from bot.render import answer_text, byline, citation, highlight_terms, mark_answer
from bot.wording import BOT_REMEDIES, MISSING_CHINESE
from retrieval.errors import Remedy
from retrieval.ingest import Paragraph
from retrieval.search import (
    MAX_QUESTION_CHARS,
    Answer,
    Passage,
    paragraph_number,
    small_talk,
)
from retrieval.words import has_words

logger = logging.getLogger(__name__)

# Telegram's limit on a message: UTF-16 code units of its text once the HTML is parsed.
MESSAGE_LIMIT = 4096
QUESTION_MARK = "🔎"
# The page of a paragraph from a paged document, before its number: "第3页 §12".
PAGE_FORM = "第{page}页 "
# The question heads every answer, so a button press can read it back after a restart.
HEADER_CHARS = 300
ELLIPSIS = "…"
_TAG = re.compile(r"<[^>]*>")
# Punctuation that joins a mention to the question (`@bot：问题`, `@bot, question`).
_AFTER_MENTION = r"[\s:：,，、;；!！.。]*"
# A sentence with its closing punctuation (or a line): where a too-long paragraph may be cut.
_PIECE = re.compile(r"[^。！？!?；;\n]*[。！？!?；;\n]+|[^。！？!?；;\n]+")

ANSWER_MARK = "💡"
NOT_ANSWERED = "🤔 资料里似乎没有这个问题的答案。下面是最接近的段落，仅供参考："
NOT_ANSWERED_LACKING = (
    "🤔 资料里似乎没有这个问题的答案：最接近的段落里没有{what}。下面的段落仅供参考："
)
NOT_ANSWERED_UNKNOWN = "🤔 资料里没有提到“{name}”。下面是最接近的段落，仅供参考："
NO_MATCH = "资料里没有找到相关内容。Nothing in the corpus matches."
NO_MORE = "没有更多结果了。No more results."
HINT_NOT_TEXT = "我只能读懂文字问题 🙂 请直接输入问题。"
HINT_NO_WORDS = "请用文字描述你的问题。"
HINT_TOO_LONG = "问题太长了（{n} 字）。请精简到 {limit} 字以内再问。"
HINT_EMPTY = "请在 /ask 后面写上问题。"
HINT_EMPTY_MENTION = "请在 @{name} 后面写上问题，或者回复一条问题并 @我。"
HINT_EMPTY_PRIVATE = "请直接发送问题。"
# Small talk gets a reply in kind and what the bot can do, never a "closest" paragraph (a
# request for help gets /help itself, from the handlers).
HINT_SMALL_TALK = {
    "greeting": "你好！直接发送问题，我会在资料里查找答案并注明出处段落。",
    "help": "发送 /help 查看用法。",
    "thanks": "不客气！还有问题可以随时直接发送给我。",
    "farewell": "再见！还有问题可以随时直接发送给我。",
    "acknowledgement": "好的 🙂 还有问题可以随时直接发送给我。",
}
FOR_EXAMPLE = "例如：{example}"
GREETING = (
    "你好！我会在资料里查找答案，并注明出处段落。直接发送问题即可{tail}\n"
    "Hi! Send me a question; I answer with cited paragraphs."
)
# In a group the bot reads only what is addressed to it: plain questions go unanswered.
GREETING_GROUP = (
    "你好！我会在资料里查找答案，并注明出处段落。在群里请这样提问：@{name} 问题、"
    "回复我的消息，或者 /ask 问题{tail}\n"
    "Hi! In a group, mention me, reply to my message or use /ask; I answer with cited paragraphs."
)
HELP = (
    "<b>怎么提问 · How to ask</b>\n"
    "直接发送问题，我会列出最相关的 {k} 段原文，注明段落编号、出处和匹配度，匹配的词加粗。\n"
    "• 「更多结果」看接下来的段落，「📖 §N」看整段及上下文\n"
    "• /p N：查看第 N 段及前后段落{doc_hint}\n"
    "• 群组里：@{name} 问题、回复我的消息，或 /ask 问题\n"
    "• 在任何聊天里输入 @{name} 问题，可以直接发送引用段落\n\n"
    "<b>资料 · Corpus</b>\n{docs}\n共 {count} 段，索引日期 {date}"
)
REFUSED = "抱歉，这个机器人只对授权用户开放。Sorry, this bot is private.\n你的 ID：{id}"
NOT_ADMIN = "抱歉，只有管理员可以使用 /reindex。"
FLOOD = "你问得太快了，请 {seconds} 秒后再试。Too many questions; please wait a little."
ERROR = "抱歉，出了点问题，请稍后再试。Something went wrong; please try again."
STORE_DOWN = (
    "抱歉，检索服务暂时连不上，请稍后再试。The search service is unreachable; try again shortly."
)
STALE = "这个按钮已失效，请重新提问。"
LOST_QUESTION = "找不到原来的问题了，请重新提问。"
UNKNOWN_COMMAND = "没有这个命令。发送 /help 查看用法。"
GONE = "这一段已不在资料里了。"
CHANGED = "资料更新过，这个编号的段落已经变了，请重新提问。"
VOTED = "谢谢反馈！已记录 {thumb}"
VOTE_LOST = "这条反馈没能记录，谢谢！"
REINDEX_STARTED = "正在重新加载资料和索引…"
REINDEX_BUSY = "已经在重建索引了，请稍候。"
REINDEX_FAILED = "重建索引失败，继续使用原来的索引：{error}"
REINDEX_DONE = "✅ 索引已更新：{docs} 份文档，共 {count} 段。"
REINDEX_SKIPPED = (
    "有 {count} 个文件没有编入索引（读不了、格式不支持、没有文字或与别的文件重复）：{names}。"
)


def with_example(hint: str, example: str | None) -> str:
    """Return a hint followed by an example question, if there is one."""
    return f"{hint}{FOR_EXAMPLE.format(example=example)}" if example else hint


def escape(text: str) -> str:
    """Escape text from the corpus or a user for Telegram HTML (quotes need no escaping)."""
    return html.escape(text, quote=False)


def telegram_size(text: str) -> int:
    """Return the length Telegram counts of HTML made here: UTF-16 code units of what shows."""
    return _units(html.unescape(_TAG.sub("", text)))


def clean_question(text: str) -> str:
    """Return the question on one line: runs of whitespace, newlines included, become a space."""
    return " ".join(text.split())


def question_problem(text: str, example: str | None = None) -> str | None:
    """Return a friendly hint if text cannot be a question (empty, no words, small talk, too
    long): the cases retrieval.search.check_question refuses, worded for a chat."""
    if not text:
        return with_example(HINT_EMPTY, example)
    if len(text) > MAX_QUESTION_CHARS:
        return HINT_TOO_LONG.format(n=len(text), limit=MAX_QUESTION_CHARS)
    if not has_words(text):
        return with_example(HINT_NO_WORDS, example)
    number = paragraph_number(text)
    if number is not None:  # `12`: maybe copied from a citation
        return BOT_REMEDIES[Remedy.SHOW_PARAGRAPH].format(number=number)
    kind = small_talk(text)
    if kind == "greeting":
        return with_example(HINT_SMALL_TALK[kind], example)
    if kind is not None:
        return HINT_SMALL_TALK[kind]
    return None


def _mention(username: str) -> str:
    # As Telegram reads a mention: not inside a word or an e-mail address (x@name.com).
    return rf"(?<![A-Za-z0-9_.+\-])@{re.escape(username)}(?![A-Za-z0-9_]|\.[A-Za-z0-9])"


def mentions(text: str, username: str) -> bool:
    """Return True if text mentions @username (any case), not as part of an e-mail address."""
    return re.search(_mention(username), text, re.IGNORECASE) is not None


def strip_addressing(text: str, username: str) -> str:
    """Return the question of a message addressed to the bot: no /ask, no @mention of it (nor
    the punctuation that joins the mention to the question)."""
    name = re.escape(username)
    text = re.sub(rf"^/ask(?:@{name})?(?=\s|$)", "", text.strip(), flags=re.IGNORECASE)
    return clean_question(
        re.sub(_mention(username) + _AFTER_MENTION, " ", text, flags=re.IGNORECASE)
    )


def question_from_header(text: str | None) -> str | None:
    """Read the question back from the plain text of an answer, if it was shown in full."""
    if not text or not text.startswith(f"{QUESTION_MARK} "):
        return None
    line = text.split("\n", 1)[0][len(QUESTION_MARK) + 1 :].strip()
    if len(line) > HEADER_CHARS and line.endswith(ELLIPSIS):
        return None
    return line or None


def confidence_label(passage: Passage) -> str:
    """Say in words how well a passage matches the question, from its fused score.

    The fused score is the passage's dense plus half its lexical z-score. On corpus/gold, 72%
    of the relevant passages in the top 10 score 5 or more and 3% of the others do; 89% and 9%
    score 3 or more. (Answer.confident, not this, decides whether the corpus answers at all.)
    """
    if passage.score >= 5.0:
        return "匹配度 高"
    if passage.score >= 3.0:
        return "匹配度 中"
    return "匹配度 低"


def pack(blocks: Iterable[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join blocks (each within the limit) with blank lines into as few messages as fit."""
    parts: list[str] = []
    current = ""
    for block in blocks:
        joined = f"{current}\n\n{block}" if current else block
        if current and telegram_size(joined) > limit:
            parts.append(current)
            current = block
        else:
            current = joined
    if current:
        parts.append(current)
    return parts


def _cut(text: str, budget: int) -> list[str]:
    """Cut text into chunks of at most `budget` UTF-16 units, at sentence ends where possible.

    Lengths are kept as running sums (not re-measured per piece: that was quadratic, seconds
    on a paragraph of tens of thousands of characters).
    """
    chunks: list[str] = []
    current, used = "", 0
    for piece in _PIECE.findall(text):
        while piece and _units(piece) > budget:
            # A sentence longer than a message: as much of it as fits (one character at least).
            size, cut = 0, 0
            for ch in piece[:budget]:
                size += _units(ch)
                if size > budget:
                    break
                cut += 1
            cut = max(cut, 1)
            if current:
                chunks.append(current)
                current, used = "", 0
            chunks.append(piece[:cut])
            piece = piece[cut:]
        size = _units(piece)
        if current and used + size > budget:
            chunks.append(current)
            current, used = "", 0
        current += piece
        used += size
    if current:
        chunks.append(current)
    return chunks


def _units(text: str) -> int:
    """Return the UTF-16 code units of plain text (what Telegram counts)."""
    return len(text.encode("utf-16-le")) // 2


def _marked(text: str, terms: Sequence[str], answer: tuple[int, int] | None = None) -> str:
    return mark_answer(
        text,
        answer,
        terms,
        lambda s: f"<b>{escape(s)}</b>",
        lambda s: f"<b><u>{escape(s)}</u></b>",
        plain=escape,
    )


def text_blocks(
    head: str,
    text: str,
    terms: Sequence[str],
    tail: str = "",
    limit: int = MESSAGE_LIMIT,
    answer: tuple[int, int] | None = None,
) -> list[str]:
    """Render a head, a text with its matched terms in bold, and a tail, as message blocks.

    The answer the reader found, if any, is bold and underlined. A text too long for one
    message continues in further blocks, cut at sentence ends.
    """

    def block(top: str, chunk: str, bottom: str, at: int = 0) -> str:
        # The answer's offsets, in the chunk that starts at `at` of the text.
        inside = (answer[0] - at, answer[1] - at) if answer is not None else None
        if inside is not None and not (0 <= inside[0] and inside[1] <= len(chunk)):
            inside = None
        return "\n".join(x for x in (top, _marked(chunk, terms, inside), bottom) if x)

    whole = block(head, text, tail)
    if telegram_size(whole) <= limit:
        return [whole]
    more = "<i>（续）</i>"
    # What a chunk may hold: the limit less the head, the tail and their line breaks (marks are
    # tags and escapes count as the character they stand for: only the chunk's length counts).
    budget = limit - (telegram_size(block(head, "x", tail)) - 1)
    chunks = _cut(text, budget)
    last = len(chunks) - 1
    blocks, at = [], 0  # the chunks are the text cut in order: each starts where one ended
    for i, chunk in enumerate(chunks):
        blocks.append(block(head if i == 0 else more, chunk, tail if i == last else "", at))
        at += len(chunk)
    return blocks


def question_line(query: str) -> str:
    """Render the line that heads an answer: the question, cut if it is very long."""
    shown = query if len(query) <= HEADER_CHARS else query[:HEADER_CHARS] + ELLIPSIS
    return f"{QUESTION_MARK} <b>{escape(shown)}</b>"


def not_answered(answer: Answer) -> str:
    """Return the "not answered" line, saying what is missing when that is known."""
    if answer.unknown:
        return NOT_ANSWERED_UNKNOWN.format(name=escape(answer.unknown))
    what = MISSING_CHINESE.get(answer.missing or "")
    return NOT_ANSWERED_LACKING.format(what=what) if what else NOT_ANSWERED


def _header(answer: Answer) -> str:
    lines = [question_line(answer.query)]
    if answer.passages and answer.passages[0].rank > 1:
        first, last = answer.passages[0].rank, answer.passages[-1].rank
        lines.append(f"<i>第 {first}–{last} 条，共 {answer.total} 条</i>")
    if not answer.passages:
        lines.append(NO_MATCH if answer.total == 0 else NO_MORE)
    elif answer.confident is False:
        lines.append(not_answered(answer))
    elif answer.passages[0].rank == 1 and (found := answer_text(answer.passages[0])):
        # The answer itself first, with the paragraph it is read from (a phone shows little).
        lines.append(
            f"{ANSWER_MARK} <b>{escape(found)}</b> · §{answer.passages[0].paragraph.number}"
        )
    return "\n".join(lines)


def passage_blocks(
    passage: Passage, terms: Sequence[str], several_docs: bool, limit: int = MESSAGE_LIMIT
) -> list[str]:
    """Render one ranked passage: rank, citation, confidence, text, attribution."""
    p = passage.paragraph
    head = (
        f"<b>{passage.rank}. {escape(citation(p, several_docs, PAGE_FORM))}</b>"
        f" · <i>{confidence_label(passage)}</i>"
    )
    tail = f"<i>— {escape(byline(p))}</i>" if byline(p) else ""
    return text_blocks(head, p.text, terms, tail, limit, passage.span)


def render_answer(answer: Answer, several_docs: bool = False) -> list[str]:
    """Render an answer as Telegram HTML messages, split at passage boundaries."""
    terms = highlight_terms(answer.query)
    blocks = [_header(answer)]
    for passage in answer.passages:
        blocks += passage_blocks(passage, terms, several_docs)
    return pack(blocks)


def render_inline(answer: Answer, passage: Passage, several_docs: bool = False) -> str:
    """Render one passage as the message an inline result sends: one message, cut if need be.

    The chat sees only this message, so "not answered" is said in it, as in a private chat.
    """
    header = question_line(answer.query)
    if answer.confident is False:
        header += "\n" + not_answered(answer)
    room = MESSAGE_LIMIT - telegram_size(header) - 4  # the blank line, and "\n…" if cut
    blocks = passage_blocks(passage, highlight_terms(answer.query), several_docs, room)
    return f"{header}\n\n{blocks[0]}" + (f"\n{ELLIPSIS}" if len(blocks) > 1 else "")


def render_context(
    paragraphs: Sequence[Paragraph], focus: int, several_docs: bool = False
) -> list[str]:
    """Render a paragraph with its neighbours: the focused one in bold with », others quieter."""
    blocks: list[str] = []
    for p in paragraphs:
        if p.number == focus:
            head = f"<b>» {escape(citation(p, several_docs, PAGE_FORM))}</b>"
            tail = f"<i>— {escape(byline(p))}</i>" if byline(p) else ""
        else:
            head, tail = f"<i>{escape(citation(p, several_docs, PAGE_FORM))}</i>", ""
        blocks += text_blocks(head, p.text, (), tail)
    return pack(blocks)
