"""How each front end words the engine's errors' remedies.

The CLI names commands and flags; the bot says what a chat user can do and never asks them
to run a shell command.
"""

from __future__ import annotations

from collections.abc import Mapping

from retrieval.errors import QabotError, Remedy
from retrieval.search.refs import BadParagraphRef

CLI_REMEDIES: dict[Remedy, str] = {
    Remedy.BUILD_INDEX: "run: qabot index",
    Remedy.REBUILD_INDEX: "run: qabot index --rebuild",
    Remedy.CORPUS_PATH: "give --corpus PATH",
    Remedy.MODEL_PATH: "give a local model folder with --model PATH (or QABOT_MODEL)",
    Remedy.REINSTALL: "reinstall it (pip install --force-reinstall {package})",
    Remedy.INSTALL: "run: pip install '{package}'",
    Remedy.OTHER_ENGINE: "use --engine {engine}",
    Remedy.OTHER_INDEX_TYPE: "use --index-type {types}, or a Milvus server",
    Remedy.MILVUS_URI: "check --milvus-uri or QABOT_MILVUS_URI",
    Remedy.MILVUS_TOKEN: "check QABOT_MILVUS_TOKEN",
    Remedy.ASK_QUESTION: 'type a question, e.g. qabot ask "青年路什么时候停水"',
    Remedy.SHOW_PARAGRAPH: 'ask in words (qabot ask "青年路什么时候停水"), or read paragraph '
    "{number} with: qabot show {number}",
    Remedy.UPDATE_GOLD: "update the gold set to the corpus (python -m retrieval.eval.beir)",
}

# What a Telegram user can do; remedies only the operator can apply are not mentioned.
BOT_REMEDIES: dict[Remedy, str] = {
    Remedy.BUILD_INDEX: "请管理员发送 /reindex 建立索引。",
    Remedy.REBUILD_INDEX: "请管理员发送 /reindex 重建索引。",
    Remedy.ASK_QUESTION: "请输入一个问题，例如：青年路什么时候停水？",
    Remedy.SHOW_PARAGRAPH: "想看第 {number} 段请发 /p {number}；"
    "想提问请用文字，例如：青年路什么时候停水？",
}


# Inside `qabot chat` the person types the question itself, not a command.
CHAT_REMEDIES: dict[Remedy, str] = {
    **CLI_REMEDIES,
    Remedy.ASK_QUESTION: "type a question, e.g. 青年路什么时候停水？",
    Remedy.SHOW_PARAGRAPH: "ask in words (青年路什么时候停水？), or read paragraph {number} "
    "with :p {number}",
}


# What the question asked for and the closest passage lacks (retrieval/search/asks.py), so
# "not found" can say why: in English for the terminal, in Chinese for the bot.
MISSING_ENGLISH: dict[str, str] = {
    "time": "time of day",
    "date": "date",
    "phone": "phone number",
    "age": "age",
    "area": "area",
    "money": "amount of money",
    "share": "percentage or share",
}
MISSING_CHINESE: dict[str, str] = {
    "time": "具体时间",
    "date": "具体日期",
    "phone": "电话号码",
    "age": "年龄",
    "area": "面积",
    "money": "金额",
    "share": "比例",
}


def cli_message(exc: QabotError, remedies: Mapping[Remedy, str] = CLI_REMEDIES) -> str:
    """Return the one line the terminal shows for an engine error (remedies: CHAT_REMEDIES
    inside `qabot chat`)."""
    if isinstance(exc, BadParagraphRef):
        return paragraph_ref_english(exc)
    hint = remedies.get(exc.remedy) if exc.remedy else None
    return f"{exc.message}; {hint.format(**exc.data)}" if hint else exc.message


def bot_remedy(exc: QabotError) -> str:
    """Return what a chat user can do about an engine error ('' when nothing)."""
    hint = BOT_REMEDIES.get(exc.remedy, "") if exc.remedy else ""
    return hint.format(**exc.data) if hint else ""


def paragraph_ref_english(problem: BadParagraphRef) -> str:
    """Say in English why words name no paragraph, with the CLI's `DOC N` syntax."""
    docs = ", ".join(problem.documents)
    if problem.reason == "which_doc":
        return (
            f"the corpus has {len(problem.documents)} documents; say which one: DOC N "
            f"(one of: {docs})"
        )
    if problem.reason == "no_doc":
        return f"there is no document {problem.doc!r}; the documents are: {docs}"
    if problem.reason == "not_number":
        return f"{problem.given!r} is not a paragraph number; give a whole number"
    if problem.reason == "out_of_range":
        return (
            f"there is no paragraph {problem.given} in {problem.doc}; "
            f"paragraphs run from 1 to {problem.last}"
        )
    return "give a paragraph number N, or DOC N"
