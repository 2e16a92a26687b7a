"""The bot against what people really type and tap: double taps, help, groups, inline paging.

Each test drives the unmodified bot through the Bot API server on 127.0.0.1, as
test_telegram_bot.py does, over the bundled corpus and the real default model.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest

from bot.telegram import handlers
from bot.telegram.buttons import context_data
from retrieval.engine import Engine
from tests.support.running_bot import RunningBot
from tests.support.telegram_server import BOT_USERNAME, BotAPIServer, Call, parse_html

pytestmark = pytest.mark.slow

_users = itertools.count(3001)
_groups = itertools.count(-3001)
DOC = "shanxi-taiyuan-news-2023-08-30"
WATER = "迎泽大街什么时候停水？"
ERROR_TEXT = "出了点问题"


def new_user() -> int:
    return next(_users)


def new_group(server: BotAPIServer) -> dict[str, Any]:
    return server.group(next(_groups))


def answered(server: BotAPIServer, query_id: str) -> Call:
    return server.wait_for(
        lambda c: c.method == "answerCallbackQuery" and c.params["callback_query_id"] == query_id
    )[0]


def inline_answer(server: BotAPIServer, user: int, query: str, offset: str = "") -> Call:
    query_id = server.inline(user, query, offset=offset)
    return server.wait_for(
        lambda c: c.method == "answerInlineQuery" and c.params["inline_query_id"] == query_id
    )[0]


def sent_to(server: BotAPIServer, chat_id: int, seconds: float = 0.6) -> list[str]:
    """Wait a little, then return the texts of every message sent to the chat."""
    time.sleep(seconds)
    return [c.text for c in server.done("sendMessage", chat_id=chat_id)]


# -- inline mode -------------------------------------------------------------------------------


def test_inline_results_end_at_the_last_page(server: BotAPIServer, bot: RunningBot) -> None:
    user = new_user()
    last = inline_answer(server, user, "迎泽大街停水", offset="45")
    assert [r["id"] for r in last.params["results"]] == ["46", "47", "48", "49", "50"]
    # No next offset: the client stops asking (python-telegram-bot sent "" as "[]").
    assert last.params.get("next_offset") in (None, "")
    # An offset this bot never gave does not start the list again from result 1.
    for garbage in ("[]", "-5", "abc"):
        assert inline_answer(server, user, "迎泽大街停水", offset=garbage).params["results"] == []


def test_inline_answers_the_corpus_lacks_say_so_in_the_message_sent(
    server: BotAPIServer, bot: RunningBot
) -> None:
    results = inline_answer(server, new_user(), "澳大利亚的首都是哪里？").params["results"]
    assert results
    for result in results:
        header = result["input_message_content"]["message_text"].split("\n\n")[0]
        assert header.startswith("🔎 <b>澳大利亚的首都是哪里？</b>\n🤔 资料里")
        assert "仅供参考" in header
    # A question it answers carries no such line.
    found = inline_answer(server, new_user(), "免费送戏下乡完成了多少场？").params["results"]
    assert "🤔" not in found[0]["input_message_content"]["message_text"]


# -- double taps -------------------------------------------------------------------------------


def test_a_double_tap_on_next_paragraph_moves_once_without_an_error(
    server: BotAPIServer, bot: RunningBot
) -> None:
    user = new_user()
    context = server.wait_sent(server.send(user, "/p 17"))[0]
    message = server.message(context.result)
    data = context_data(DOC, 18, move=True)
    first, second = server.press_data(user, message, data), server.press_data(user, message, data)
    assert answered(server, first) and answered(server, second)
    moved = server.wait_for(lambda c: c.method == "editMessageText" and c.chat_id == user)
    assert "» §18" in moved[0].text
    texts = sent_to(server, user)
    assert not any(ERROR_TEXT in t for t in texts)
    assert len(texts) == 1  # the paragraph; nothing more
    assert not answered(server, second).params.get("show_alert")


def test_a_double_tap_on_more_results_sends_the_page_once(
    server: BotAPIServer, bot: RunningBot
) -> None:
    user = new_user()
    answer = server.wait_replies(server.send(user, WATER))[0]
    message = server.message(answer.result)
    (more,) = [b["callback_data"] for b in answer.buttons() if b["text"].startswith("更多结果")]
    first, second = server.press_data(user, message, more), server.press_data(user, message, more)
    assert answered(server, first) and answered(server, second)
    server.wait_for(
        lambda c: c.method == "sendMessage" and c.chat_id == user and "第 4–6 条" in c.text
    )
    texts = sent_to(server, user, 1.0)
    assert sum("第 4–6 条" in t for t in texts) == 1
    assert not any(ERROR_TEXT in t for t in texts)


def test_a_double_tap_on_a_button_that_stays_sends_once_and_a_later_press_works(
    server: BotAPIServer, seed_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers, "DOUBLE_TAP_SECONDS", 0.5)  # read when the bot starts
    with RunningBot(server, seed_engine):
        user = new_user()
        greeting = server.wait_sent(server.send(user, "/start"))[0]
        example = server.message(greeting.result)
        answer = server.wait_replies(server.send(user, WATER))[0]
        message = server.message(answer.result)
        (book,) = [b["callback_data"] for b in answer.buttons() if b["text"].startswith("📖")][:1]
        (ask,) = [b["callback_data"] for b in greeting.buttons()][:1]
        for pressed, data, shown in ((message, book, "§4"), (example, ask, "🔎")):
            before = len(sent_to(server, user, 0.0))
            taps = [server.press_data(user, pressed, data) for _ in range(2)]
            assert all(answered(server, tap) for tap in taps)
            assert len(sent_to(server, user, 1.0)) == before + 1  # one reply for the double tap
            time.sleep(0.6)  # past the double-tap window: pressed again, it answers again
            assert answered(server, server.press_data(user, pressed, data))
            assert len(sent_to(server, user, 1.0)) == before + 2
            assert shown in sent_to(server, user, 0.0)[-1]


@pytest.mark.parametrize("data", ["m|-5|迎泽大街", "n|{key}|-1", "c|{key}|0", "v|+1|{key}|-3"])
def test_hand_made_button_data_is_refused_as_stale(
    server: BotAPIServer, bot: RunningBot, data: str
) -> None:
    user = new_user()
    answer = server.wait_replies(server.send(user, WATER))[0]
    key = context_data(DOC, 1).split("|")[1]
    query = server.press_data(user, server.message(answer.result), data.format(key=key))
    alert = answered(server, query)
    assert alert.params.get("show_alert") and "按钮已失效" in alert.text
    assert len(sent_to(server, user)) == 1  # only the answer to the question


# -- help and small talk -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["help", "帮助", "怎么用", "/?", "你能做什么？", "How do I use this?"]
)
def test_asking_for_help_in_words_gets_the_help(
    server: BotAPIServer, bot: RunningBot, text: str
) -> None:
    reply = parse_html(server.wait_sent(server.send(new_user(), text))[0].text)
    assert reply.startswith("怎么提问 · How to ask") and "共 50 段" in reply


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ok", "好的 🙂"),
        ("好的", "好的 🙂"),
        ("嗯", "好的 🙂"),
        ("再见", "再见！"),
        ("谢谢你的回答", "不客气！"),
        ("謝謝！", "不客气！"),
    ],
)
def test_small_talk_gets_a_reply_that_fits(
    server: BotAPIServer, bot: RunningBot, text: str, expected: str
) -> None:
    user = new_user()
    reply = server.wait_sent(server.send(user, text))[0]
    assert reply.text.startswith(expected)
    assert len(sent_to(server, user, 0.3)) == 1


# -- groups ------------------------------------------------------------------------------------


def test_allowlist_refuses_only_what_is_meant_for_the_bot(
    server: BotAPIServer, seed_engine: Engine
) -> None:
    stranger, group = new_user(), new_group(server)
    with RunningBot(server, seed_engine, allowed_chats=frozenset({-2002})):
        for text in ("/start@otherbot", "/ban spammer", "/help@otherbot", "/p@otherbot 3"):
            server.send(stranger, text, chat=group)
        ours = server.send(stranger, f"/help@{BOT_USERNAME}", chat=group)
        refusal = server.wait_replies(ours)[0]
        assert refusal.text.startswith("抱歉，这个机器人只对授权用户开放")
        mention = server.send(stranger, f"@{BOT_USERNAME} {WATER}", chat=group)
        server.wait_replies(mention)
        assert len(sent_to(server, group["id"])) == 2  # the two meant for it, nothing else


def test_a_bare_mention_or_ask_in_reply_asks_the_quoted_question(
    server: BotAPIServer, bot: RunningBot
) -> None:
    group, asker, helper = new_group(server), new_user(), new_user()
    quoted = "有人知道迎泽大街什么时候停水吗？"
    original = server.send(asker, quoted, chat=group)
    addressings = (f"@{BOT_USERNAME}", "/ask", f"/ask@{BOT_USERNAME}", f"@{BOT_USERNAME} ?")
    for i, addressing in enumerate(addressings):
        server.send(helper, addressing, chat=group, reply_to=original)
        # The answer replies to the question itself.
        answer = server.wait_replies(original, i + 1)[i]
        assert answer.text.startswith(f"🔎 <b>{quoted}</b>")
        assert "§49" in answer.text
    # A request for help with nothing quoted is one.
    helped = server.wait_replies(server.send(helper, f"@{BOT_USERNAME} ?", chat=group))[0]
    assert parse_html(helped.text).startswith("怎么提问")
    # With nothing quoted, a hint that speaks of what the user did.
    alone = server.wait_replies(server.send(helper, f"@{BOT_USERNAME}", chat=group))[0]
    assert f"请在 @{BOT_USERNAME} 后面写上问题" in parse_html(alone.text)
    private = server.wait_sent(server.send(helper, f"@{BOT_USERNAME}"))[0]
    assert parse_html(private.text).startswith("请直接发送问题") and "/ask" not in private.text


def test_more_results_for_a_quoted_question_after_a_long_answer(
    server: BotAPIServer, seed_engine: Engine
) -> None:
    group, asker, helper = new_group(server), new_user(), new_user()
    quoted = "请问大家知道今年全省免费送戏下乡进村的任务完成得怎么样了吗？一共送了多少场戏？"
    with RunningBot(server, seed_engine, k=30):  # more than one message can hold
        original = server.send(asker, quoted, chat=group)
        server.send(helper, f"@{BOT_USERNAME}", chat=group, reply_to=original)
        server.wait_for(
            lambda c: (
                c.method == "sendMessage"
                and c.chat_id == group["id"]
                and "reply_markup" in c.params
            )
        )
        parts = server.replies(original)
        assert len(parts) >= 2 and not parts[-1].text.startswith("🔎")
        more = [b["callback_data"] for b in parts[-1].buttons() if b["text"].startswith("更多")]
        assert more == ["m|30|"]  # the question is too long for the button's data
        pressed = server.press(helper, server.message(parts[-1].result), "更多结果")
        next_page = server.wait_for(
            lambda c: c.method == "sendMessage" and c.chat_id == group["id"] and "第 31–" in c.text
        )[0]
        assert next_page.text.startswith(f"🔎 <b>{quoted}</b>")
        assert not answered(server, pressed).params.get("show_alert")


def test_in_a_forum_topic_every_reply_stays_in_the_topic(
    server: BotAPIServer, bot: RunningBot
) -> None:
    forum, user = server.group(next(_groups), forum=True), new_user()
    topic: dict[str, Any] = {"message_thread_id": 77, "is_topic_message": True}

    def in_topic(call: Call) -> bool:
        return str(call.params.get("message_thread_id")) == "77"

    asked = server.send(user, f"@{BOT_USERNAME} {WATER}", chat=forum, **topic)
    answer = server.wait_replies(asked)[0]
    greeting = server.wait_replies(server.send(user, "/start", chat=forum, **topic))[0]
    server.press(user, server.message(answer.result), "📖 §49")
    server.press(user, server.message(answer.result), "更多结果")
    server.press(user, server.message(greeting.result), "迎泽大街")
    sent = server.wait_sent(asked, 5)  # the answer, the greeting, one for each press
    assert all(in_topic(c) for c in sent), [c.params for c in sent if not in_topic(c)]
    server.fail("sendMessage", 400)
    failed = server.send(user, f"@{BOT_USERNAME} {WATER}", chat=forum, **topic)
    apology = server.wait_sent(failed)[0]
    assert ERROR_TEXT in apology.text and in_topic(apology)


def test_start_in_a_group_says_how_to_ask_there(server: BotAPIServer, bot: RunningBot) -> None:
    group = new_group(server)
    greeting = server.wait_replies(server.send(new_user(), "/start", chat=group))[0]
    text = parse_html(greeting.text)
    assert "直接发送问题" not in text
    assert f"@{BOT_USERNAME} 问题" in text and "/ask 问题" in text and "回复我的消息" in text
    assert len(greeting.buttons()) == 3  # the examples still work when pressed in a group
    private = server.wait_sent(server.send(new_user(), "/start"))[0]
    assert "直接发送问题即可" in private.text


def test_a_mention_is_stripped_with_its_punctuation_and_an_email_is_no_mention(
    server: BotAPIServer, bot: RunningBot
) -> None:
    group, user = new_group(server), new_user()
    asked = server.send(user, f"问问 @{BOT_USERNAME}：电梯加装了多少部？", chat=group)
    assert server.wait_replies(asked)[0].text.startswith("🔎 <b>问问 电梯加装了多少部？</b>")
    email = server.send(user, f"email me at x@{BOT_USERNAME}.com 电梯", chat=group)
    sent_to(server, group["id"])
    assert server.replies(email) == []


# -- /p ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["/p 17 extra", "/p 17 18 19"])
def test_words_after_the_paragraph_number_get_the_usage(
    server: BotAPIServer, bot: RunningBot, command: str
) -> None:
    reply = parse_html(server.wait_sent(server.send(new_user(), command))[0].text)
    assert reply == (
        "/p 后面只写段落编号（或 文档 N），不加别的字。用法：/p N，段落编号为 1–50，例如：/p 12"
    )


def test_the_usage_names_the_documents_when_there_are_several() -> None:
    usage = handlers.paragraph_usage(["news", "notices"], 30)
    assert usage == "资料有 2 份文档，请写明是哪一份：/p 文档 N（news、notices）"
    assert handlers.paragraph_usage(["news"], 7) == "用法：/p N，段落编号为 1–7，例如：/p 7"
