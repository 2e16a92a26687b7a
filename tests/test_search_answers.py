"""Tests of the answer itself inside a passage (search/answers.py), on the bundled page's text."""

from __future__ import annotations

import pytest

from retrieval.engine import Engine
from retrieval.search.answers import EXPRESSIONS, aligned_text, answer_span

MARKET = (
    "省级安排资金9320万元对各县给予60~120万元不等的一次性支持。截至目前,全省117个公益性"
    "零工市场累计提供零工岗位9.3万个、服务零工7.5万人次。"
)
ELDERLY = (
    "目前,省级低保家庭高龄老人生活补贴每人每月提高20元标准已全部落实到位。今年1月至8月份累计"
    "发放补贴760422人次,补贴5746.72万元。"
)
STUDENTS = (
    "按照研究生每人每年6000元、本科生每人每年5000元、大专生每人每年4000元的标准给予全程资助。"
)
WATER = "兹因迎泽大街道路工程,定于2023年8月30日15时—8月31日15时在下列地区实施停水:"
DISABLED = "并将残疾儿童救助年龄由0~6岁扩大到0~15岁,为1万名残疾儿童提供抢救性康复救助。"


def answer(question: str, passage: str) -> str | None:
    span = answer_span(question, passage)
    return None if span is None else passage[span[0] : span[1]]


@pytest.mark.parametrize(
    ("question", "passage", "expected"),
    [
        ("零工市场累计提供了多少个岗位？", MARKET, "9.3万个"),  # the count of 个, by 岗位
        ("省级安排了多少资金支持零工市场？", MARKET, "9320万元"),
        # 累计发 is in the clause before 5746.72万元, the topic in 20元's own: they disagree.
        ("低保家庭高齡老人補貼今年累計發了多少錢？", ELDERLY, None),
        ("低保家庭的高龄老人每月补贴涨了多少？", ELDERLY, "20元"),  # 补贴…多少: a sum
        # 大专 is 4000元's clause's, but one pair is too thin a lead to show it in bold.
        ("家里孩子考上了大专，政府一年给多少补助？", STUDENTS, None),
        ("大专生每人每年资助多少钱？", STUDENTS, "4000元"),
        ("迎泽大街停水是几点到几点？", WATER, "2023年8月30日15时—8月31日15时"),  # a range
        ("残疾儿童康复救助的年龄扩大到了多少岁？", DISABLED, "0~15岁"),  # 扩大到 leads to it
        ("每人补助多少钱？", "城区每人补助100元,农村每人补助200元。", None),  # as near: neither
    ],
)
def test_the_answer_is_the_expression_of_the_asked_kind_nearest_the_question(
    question: str, passage: str, expected: str | None
) -> None:
    assert answer(question, passage) == expected


def test_no_answer_when_the_clause_before_and_its_own_clause_disagree() -> None:
    # The programme's name in the clause before 10万场 repeats the question; the words of
    # 1万场's own clause do: rather none than 10万场 (the total since 2017) in bold.
    passage = (
        "“免费送戏下乡进村”惠民工程自2017年启动以来,送戏总数已突破10万场。今年,我省决定全年"
        "免费送戏1万场。"
    )
    assert answer("今年计划免费送戏下乡多少场？", passage) is None
    assert answer("今年全年免费送戏多少场？", passage) == "1万场"


def test_no_answer_without_an_asked_kind_or_for_an_english_question() -> None:
    assert answer("零工市场有什么功能？", MARKET) is None
    assert answer("How many jobs have the gig markets offered?", MARKET) is None
    assert answer("零工市场分为哪几个部分？", MARKET) is None  # 哪几个 asks which, not how many


def test_a_year_or_a_figure_the_question_states_is_not_the_answer() -> None:
    assert answer("公司成立多少年了？", "公司成立于1998年,至今已有25年。") == "25年"
    assert answer("117个零工市场累计提供了多少个岗位？", MARKET) == "9.3万个"
    assert answer("已经运营了多少年？", "该项目2019年开工,已经运营4年。") == "4年"


AED = (
    "已经连续开展了4年。2023年将配置数量从2022年的800台增加至1000台。4年来,政策保障持续"
    "加大,配置数量不断增加,今年将达到2823台。"
)


def test_the_old_value_of_a_change_is_no_answer_unless_asked_for() -> None:
    assert answer("2023年配置多少台AED？", AED) == "1000台"
    assert answer("2022年配了多少台除颤仪？", AED) == "800台"


def test_an_item_of_a_list_is_read_with_its_own_words() -> None:
    assert answer("本科生每年资助多少钱？", "对符合条件的大学生给予资助," + STUDENTS) == "5000元"
    assert (
        answer("改建了多少家零工市场？", "零工市场建设中,全省新建93家、改建24家,规划建设。")
        == "24家"
    )


def test_a_plain_how_much_takes_a_sum_and_a_share_only_when_asked_about_one() -> None:
    funds = (
        "全省共安排资金20.3亿元,省级财政安排12.2亿元、占比60.1%,市县财政安排8.1亿元、占比39.9%。"
    )
    assert answer("市县财政安排多少？", funds) == "8.1亿元"
    progress = "其中5个已投入运营,88个正在建设中,总建设进度达73%。"
    assert answer("幸福养老工程总体建设进度是多少？", progress) == "73%"
    taxes = "去年在晋台资企业累计减免各项税费达11.95亿元,同比增长129.09%。"
    assert answer("台资企业减免税费同比增长多少？", taxes) == "129.09%"
    assert answer("台资企业去年减免了多少税费？", taxes) == "11.95亿元"


def test_figures_keep_their_ten_thousands_and_codes_are_no_figures() -> None:
    assert answer("全省常住人口有多少？", "全省常住人口3465万，比上年减少15万。") == "3465万"
    assert answer("K007线全长多少？", "K007线全长7.3km,投资1.2亿元。") is None
    # A full-width comma between digits may group thousands (１２，０００) or break a clause
    # (7.07，15岁): no figure is read across or out of it (not 000元 for １２，０００元).
    assert answer("每人补助多少钱？", "每人补助１２，０００元。") is None
    assert answer("截至目前有多少个？", "截至目前，117个市场建成。") == "117个"


def test_a_phone_number_keeps_its_area_code() -> None:
    assert answer("咨询电话是多少？", "咨询电话:(0351)3586630。") == "(0351)3586630"


def test_a_sum_does_not_answer_a_count_of_people() -> None:
    # 多少高龄老人 counts people: the 20元 nearby is no answer, the count of 人次 is.
    assert answer("今年1月至8月份给多少高龄老人发了补贴？", ELDERLY) == "760422人次"


def test_offsets_are_those_of_the_original_traditional_text() -> None:
    passage = "截至目前，全省既有住宅加裝電梯已開工５６４部，超額完成年度計劃數量。"
    assert len(aligned_text(passage)) == len(passage)
    assert answer("既有住宅加装电梯已经开工多少部？", passage) == "５６４部"
    # İ lowercases to two characters: kept as it is, so later offsets do not shift.
    assert answer("岗位有多少个？", "İ岗位有10个，另外也有岗位2个。") == "10个"


@pytest.mark.slow
def test_a_confident_answer_shows_the_answer_in_its_first_passage(seed_engine: Engine) -> None:
    found = seed_engine.searcher.search("零工市场累计提供了多少个岗位？")
    assert found.confident is True
    first = found.passages[0]
    assert first.span is not None
    assert first.paragraph.text[first.span[0] : first.span[1]] == "9.3万个"
    assert all(p.span is None for p in found.passages[1:])


@pytest.mark.slow
def test_an_unconfident_answer_shows_no_answer(seed_engine: Engine) -> None:
    found = seed_engine.searcher.search("配置一台AED大概要花多少钱？")
    assert found.confident is False
    assert all(p.span is None for p in found.passages)


def test_expressions_start_only_where_a_number_starts() -> None:
    # Not inside 760422 or 一百二十: a regex trying each position of a long run of digits
    # would be quadratic (seconds on a paragraph of 5,000 digits).
    for kind, text, expected in [
        ("number", "发放760422人次", ["760422人次"]),
        ("number", "约50,000名战俘", ["约50,000名"]),
        ("money", "一百二十元", ["一百二十元"]),
        ("share", "占比60.1%", ["60.1%"]),
    ]:
        assert [m.group() for m in EXPRESSIONS[kind].finditer(text)] == expected
    assert answer_span("有多少个？", "1" * 5000) is None


def test_a_lone_time_with_no_word_of_the_question_near_is_no_answer() -> None:
    # 8时 is when the businesswoman arrived, not when the hall opens: nothing near it says so.
    arrival = "早晨8时多,台商陈韵安在会场周边小转了一圈,然后步入了会场。"
    assert answer("会场几点开门？", arrival) is None
    assert answer("有多少个小孩？", "项目建成后将直接增加1.2万个普惠性托位。") is None


def test_an_area_asked_in_a_unit_is_answered_in_it() -> None:
    land = "国有空地4237.34平方米(6.36亩)。"
    assert answer("国有空地有多少亩？", land) == "6.36亩"
    assert answer("国有空地有多少平方米？", land) == "4237.34平方米"


def test_the_clause_an_expression_ends_is_its_own_not_the_next_ones() -> None:
    # 通过食堂供餐的学校 says what 115所 is: it is not 169所's clause before.
    lunch = "其中115所通过食堂供餐的学校全部完成改造,169所全部完成招标。"
    assert answer("有多少所学校通过食堂供餐？", lunch) == "115所"


LUNCH = (
    "我省确定今年在284所城区小学推进实施“放心午餐”工程,"
    "省财政专门安排2.02亿元专项资金用于这些学校建设改造食堂、午休场所等。"
)


def test_an_amount_per_unit_is_not_answered_by_a_total() -> None:
    # The page never says what a meal costs; its sum is the programme's budget.
    assert answer("“放心午餐”每个学生每顿饭要交多少钱？", LUNCH) is None
    assert answer("“放心午餐”工程省财政专门安排了多少专项资金？", LUNCH) == "2.02亿元"
    assert answer("研究生每人每年资助多少元？", STUDENTS) == "6000元"


def test_a_figure_of_this_year_does_not_answer_for_next_year() -> None:
    done = "截至8月27日,全省已提前超额完成年度任务,共免费送戏13329场,完成率为133.29%。"
    assert answer("明年计划免费送戏多少场？", done) is None
    assert answer("今年免费送戏多少场？", done) == "13329场"
    assert answer("去年送戏多少场？", "2022年共送戏12000场。") == "12000场"  # a year named
    # 提前年度 and 以后年 name no other year.
    assert answer("提前年度任务完成了多少场？", done) == "13329场"


def test_a_change_does_not_answer_for_the_level_reached() -> None:
    raised = (
        "目前,省级低保家庭高龄老人生活补贴每人每月提高20元标准已全部落实到位。"
        "今年1月至8月份累计发放补贴760422人次,补贴5746.72万元。"
    )
    # The page says by how much the allowance rose, never what it now is.
    assert answer("补贴提高以后，每人每月一共能领多少钱？", raised) is None
    assert answer("高龄老人生活补贴每人每月提高了多少钱？", raised) == "20元"
    assert answer("高龄老人生活补贴每人每月提高多少元？", raised) == "20元"
    # A level reached is no change: 增加至 leads the new value.
    assert answer("AED今年一共配置多少台？", "配置数量从800台增加至1000台。") == "1000台"


def test_a_figure_of_another_named_year_does_not_answer() -> None:
    aed = "2023年将配置数量从2022年的800台增加至1000台。4年来,政策保障持续加大。"
    assert answer("2024年配置多少台AED？", aed) is None
    assert answer("2023年配置多少台AED？", aed) == "1000台"
    assert answer("今年配置多少台AED？", aed) == "1000台"
    # A sentence naming no year may be about it: left to the question's other words.
    assert answer("2023年计划加装多少部电梯？", "今年全省计划加装500部电梯。") == "500部"
    # An age in years is no year written about.
    old_town = "这座有1800年历史的古城今年接待游客500万人次。"
    assert answer("2023年接待游客多少人次？", old_town) == "500万人次"


def test_a_span_of_days_is_no_date() -> None:
    notice = "望上述单位及住户自本通告发布之日起15日内携带有关土地手续办理注销手续。"
    assert answer("土地通告是哪天发布的？", notice) is None
    assert answer("停水是哪天？", "定于8月31日9时至19时停水。") == "8月31日"
    assert answer("停水是哪天？", "定于8月31日内蒙古路停水。") == "8月31日"  # a road, no span
