"""Tests for retrieval.search.asks: what a question asks for, and whether a passage holds it."""

from __future__ import annotations

import pytest

from retrieval.search import Searcher
from retrieval.search.asks import KIND_PENALTY, asked_kinds, missing_kind, prefer_what_is_asked

# Paragraphs of the bundled page (§24, §30, §32, §50, abridged only where noted).
AED = "2023年将配置数量从2022年的800台增加至1000台。4年来,政策保障持续加大,今年将达到2823台。"
ARRIVAL = "早晨8时多,呼吸着清新的空气,台商陈韵安在会场周边小转了一圈,然后步入了会场。"
PARK = "海峡两岸(太原)产业园位于太忻一体化经济区,是为广大台商量身定做的发展平台。"
WATER = "太原市自来水公司将于8月31日9时至19时对青年路供水管线进行改造。"


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("台商陈韵安几点到的会场？", ["time"]),
        ("What time does the Taiyuan metro close at night?", ["time"]),
        ("全省建了多少个标准化快递综合服务站？", ["number"]),
        ("How many village express service stations are there?", ["number"]),
        ("市人大常委会第十一次会议的分组会议是哪天开的？", ["date"]),
        ("青年路停水有问题可以打哪个电话咨询？", ["phone"]),
        ("What phone number can residents call?", ["phone"]),
        ("残疾儿童康复救助的年龄扩大到了多少岁？", ["age", "number"]),
        ("海峡两岸（太原）产业园一期占地多少亩？", ["area", "number"]),
        ("产业园一期占地面积有多大？", ["area"]),  # a word between: 有, 大约是 (CMRC, DRCD)
        ("新濠锋酒店的总面积大约是多少？", ["area", "number"]),
        ("徐阳的退役年龄是多大？", ["age"]),
        ("播種面積約占全省總播種面積約多少比例？", ["number"]),  # a share of an area, no area
        ("配置一台AED大概要花多少錢？", ["money", "number"]),  # Traditional, as typed
        ("How much aid does a student with a disability receive each year?", ["money", "number"]),
        ("公办托育机构每个月收多少托育费？", ["money", "number"]),  # 多少 ... 费
        ("今年省里花在老百姓身上的钱有多少？", ["money", "number"]),  # the sum first
        ("陈诚花费多少时间即毕业？", ["number"]),  # 费 ... 多少时间 asks for no sum
        ("How much of the funding comes from the provincial budget?", ["money", "number"]),
        ("截至7月民生支出占全省一般公共预算支出的比例是多少？", ["share", "number"]),
        ("By what percentage did tax relief grow last year?", ["share"]),
        ("杨俊民担任什么职务？", ["post"]),
        ("钱烈宪现在的职务是什么？", ["post"]),  # CMRC 2018 train
        ("What position does Yang Junmin hold?", ["post"]),
        ("曾心梅从事什么职业？", []),  # an occupation: 歌手, 足球员, no list of titles
        ("任何职工都能享受免费送戏吗？", []),  # 任何职…: anyone
        ("What office is responsible for the water cut?", []),
        ("What office did he hold?", ["post"]),
        ("青年路什么时候停水？", []),  # a date or a time: too varied to check by pattern
        ("为什么电话本不受版权法保护？", []),  # 为什么 + 电话, not 什么电话
    ],
)
def test_what_a_question_asks_for(question: str, kinds: list[str]) -> None:
    assert [k.name for k in asked_kinds(question)] == kinds


@pytest.mark.parametrize(
    ("question", "passage", "missing"),
    [
        ("台商陈韵安几点到的会场？", ARRIVAL, None),  # 8时多
        ("青年路停水是几点到几点？", WATER, None),  # 9时至19时
        ("配置一台AED大概要花多少钱？", AED, "money"),  # numbers, but no sum of money
        ("海峡两岸（太原）产业园一期占地多少亩？", PARK, "area"),
        ("青年路停水有问题可以打哪个电话咨询？", WATER, "phone"),
        ("产业园有多少家台资企业？", PARK, None),  # a number only ranks: never "not found"
        ("青年路停水是哪一天？", WATER, None),  # 8月31日
        ("申请截止日期是哪天？", PARK, "date"),
        ("放心午餐工程省财政拿出了多少钱？", "省级财政安排资金1.5亿元。", None),
        ("男女生比例是多少？", "学校男女生比例约为1：7。", None),  # full-width colon
        ("青年路什么时候停水？", AED, None),  # asks for nothing checked: never missing
        # Answerable questions that must never be "not found":
        ("博物馆几点开门？", "博物馆9点开门，17点闭馆。", None),  # digits before 点
        ("开幕式几点举行？", "开幕式将于9时举行。", None),
        ("会议提出了几点要求？", AED, None),  # 几点 = how many points
        ("有多少消费者参与了活动？", "共吸引3万名消费者参与。", None),  # 消费 is no sum
        ("共捐赠多少件衣物？", "共捐赠衣物500件。", None),  # a count, not money
        ("学生票价是多少？", "学生凭证件半价。", None),
        ("中秋节是哪一天？", "中秋节是农历八月十五。", None),
        ("How old is she?", "She is 37 years old.", None),  # English text: kinds only rank
        ("What is the Information Age?", AED, None),
        ("How many people use a mobile phone in Shanxi?", "全省手机用户3000万户。", None),
    ],
)
def test_a_passage_without_what_is_asked_for_is_named(
    question: str, passage: str, missing: str | None
) -> None:
    found = missing_kind(question, passage)
    assert (found.name if found else None) == missing


def test_the_searcher_says_not_found_when_the_first_passage_lacks_it(searcher: Searcher) -> None:
    answer = searcher.search("配置一台AED大概要花多少钱？")
    first = answer.passages[0].paragraph.text
    assert missing_kind(answer.query, first) is not None  # the fixture's first passage: §24
    assert (answer.confident, answer.confidence, answer.missing) == (False, 0.0, "money")
    fine = searcher.search("迎泽大街停水是几点到几点？")
    assert fine.missing is None


def test_a_post_only_ranks() -> None:
    # §33 quotes 杨俊民 without his title; §32 names it: the quote moves below, but a
    # passage without a title may still answer (`被授予什么头衔` -> 社会主义劳动英雄).
    quote = "“诚挚邀请广大台商企业家,在海峡两岸(太原)产业园扎根。”杨俊民向大家发出邀请。"
    titled = "太原运营中心常务副主任杨俊民介绍,海峡两岸(太原)产业园位于太忻一体化经济区。"
    texts = {1: quote, 2: titled}
    moved = prefer_what_is_asked("杨俊民担任什么职务？", [(1, 3.0), (2, 2.5)], texts.__getitem__)
    assert moved == [(2, 2.5), (1, 3.0 - KIND_PENALTY)]
    assert missing_kind("杨俊民担任什么职务？", quote) is None
    for title in ("市科技局局长", "董事长", "省长", "教授", "总经理", "副主席", "改供奉官"):
        kept = prefer_what_is_asked("他担任什么职务？", [(1, 1.0)], lambda _, t=title: t)
        assert kept == [(1, 1.0)], title
    # No title: a committee, an organ, the long term.
    untitled = ("市人大常委会举行会议", "官方数据显示", "器官移植", "进行长期观察", "许多家长")
    for text in untitled:
        moved = prefer_what_is_asked("他担任什么职务？", [(1, 1.0)], lambda _, t=text: t)
        assert moved == [(1, 1.0 - KIND_PENALTY)], text


def test_passages_without_what_is_asked_for_move_down() -> None:
    texts = {1: PARK, 2: AED, 3: ARRIVAL}
    ranking = [(1, 3.0), (2, 2.5), (3, 0.1)]
    # A count: §24 has figures, the park paragraph none; the arrival has 8时 (a number too).
    moved = prefer_what_is_asked("产业园有多少家台资企业？", ranking, texts.__getitem__)
    assert moved == [(2, 2.5), (1, 3.0 - KIND_PENALTY), (3, 0.1)]
    # Two kinds missing cost twice: a sum of money is nowhere, a number in §24 and §30.
    money = prefer_what_is_asked("AED要花多少钱？", ranking, texts.__getitem__)
    assert dict(money) == {1: 3.0 - 2 * KIND_PENALTY, 2: 2.5 - KIND_PENALTY, 3: 0.1 - KIND_PENALTY}
    assert [row for row, _ in money] == sorted(dict(money), key=dict(money).__getitem__)[::-1]
    # A passage lacking what is asked goes below one holding it, whatever their scores were.
    assert money[0][0] != 1
    # A question asking for nothing checked keeps its ranking as it is.
    assert prefer_what_is_asked("产业园在哪里？", ranking, texts.__getitem__) == ranking
