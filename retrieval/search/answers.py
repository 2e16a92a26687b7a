"""The answer itself inside a passage, for a question that asks for a number, a sum, a date.

A question asking for a kind of thing search/asks.py knows (a time, a date, a phone number, an
age, an area, a sum of money, a share, a count) is answered by one expression of that kind in
the passage: `零工市场累计提供了多少个岗位？` by `9.3万个` in `累计提供零工岗位9.3万个`. Of the
passage's expressions of the kind, the one whose clause shares the most of the question's
character pairs (by its asking word first) is the answer; none is given when no clause shares
any, when the winner does not lead the runner-up clearly (MARGIN), or when reading each
expression's own clause first would pick another (the front ends then show the passage
without a bold answer: a wrong answer in bold would be worse than none). Extractive: the
offsets of text the passage has, never generated.

Measured on CMRC 2018 and DRCD questions with their answer spans (benchmarks/answer_spans.py,
figures in docs/quality.md).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

from retrieval.normalize import to_simplified
from retrieval.search.asks import AREA_UNITS, CURRENCIES, MONEY_WORDS, asked_kinds
from retrieval.search.confidence import is_latin

# Numbers start only where one starts (not inside 760422, 50,000 or 一百二十): a regex that
# tried every position of a long run of digits would take seconds (quadratic) on 5,000 of them.
# A comma inside a figure only groups thousands (50,000): `7.07，15岁` is two figures (the
# full-width comma, a clause break, is not folded: see aligned_text).
_DIGITS = r"(?<!\d)(?<!\d[.,，])\d+(?:,\d{3}(?!\d))*(?:\.\d+)?(?!，\d)"
_CN = r"(?<![零〇一二两三四五六七八九十百千])[零〇一二两三四五六七八九十百千]+"
_NUMBER = rf"(?:约|近|超过|逾)?(?:{_DIGITS}|{_CN})(?:\s*[万亿]+)?(?:多|余)?"
_CURRENCY = CURRENCIES
_AREA = AREA_UNITS
# Measure words and units a count or an amount comes with (longest first).
_UNITS = "|".join(
    sorted(
        set(
            (
                "个 条 名 位 家 所 项 件 次 座 台 部 场 批 种 户 人 人次 天 年 个月 周 岁 吨 斤 % "
                "公斤 千克 克 米 公里 千米 公尺 厘米 毫米 英里 英尺 码 集 任 道 支 张 本 册 首 架 "
                "艘 辆 匹 头 只 枚 颗 层 栋 间 届 期 季 轮 分 分钟 秒 小时 度 倍 株 棵 篇 款 块 套 "
                "处 班 趟 列 节 盏 口 卷 章 行 字 国 省 市 县 区 镇 村 州 城 队 球 票"
            ).split()
            + _CURRENCY.split("|")
            + _AREA.split("|")
        ),
        key=lambda unit: (-len(unit), unit),
    )
)
_RANGE = r"\s*[—\-~～至到－]\s*"
_AMOUNT = rf"{_NUMBER}(?:{_RANGE}{_NUMBER})?"  # 60~120万元, 0~15岁

# How an answer of each kind is written (over the length-preserving lowercase text below).
EXPRESSIONS: dict[str, re.Pattern[str]] = {
    "time": re.compile(
        r"(?:(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*[日号]\s*)?"
        r"(?:[上下]午|凌晨|早晨|早上|晚上|中午|傍晚)?"
        r"(?:\d{1,2}\s*[:：]\s*\d{2}|(?:\d{1,2}|[一二两三四五六七八九十]{1,3})\s*[点时]"
        r"(?:\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*分|半|整)?)"
    ),
    # Not a span of days (`自发布之日起15日内`, `30日以内`).
    "date": re.compile(
        r"(?:(?<!\d)(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*[日号]|(?<!\d)\d{1,2}\s*[日号]"
        r"|(?<![一二三四五六七八九十廿卅])(?:[一二三四五六七八九十]+月)?[一二三四五六七八九十廿卅]+[日号]"
        r"|[正一二三四五六七八九十冬腊]月(?:初|廿|十)?[一二三四五六七八九十]+)"
        r"(?!\s*(?:内(?![蒙瓦江])|以内|之内))"  # 8月29日内蒙古, 日内瓦 are no span
    ),
    # With its area code: (0351)3586630, 0351-3586630.
    "phone": re.compile(
        r"(?:[(]\s*0\d{2,3}\s*[)]\s*|(?<!\d)0\d{2,3}\s*[-—]\s*)?(?<!\d)\d{7,8}(?!\d)"
        r"|\d{3}\s\d{4}\s\d{4}|(?<!\d)\d{5,}"
    ),
    "age": re.compile(rf"{_AMOUNT}\s*周?岁"),
    "area": re.compile(rf"{_AMOUNT}\s*(?:{_AREA})"),
    "money": re.compile(rf"{_AMOUNT}\s*(?:{_CURRENCY})|[$¥€£]\s*{_DIGITS}(?:\s*[万亿])?"),
    "share": re.compile(
        rf"{_DIGITS}\s*%|百分之{_CN}(?:点{_CN})?|{_CN}成|{_DIGITS}\s*倍|{_CN}分之{_CN}"
    ),
    # A bare figure only of two digits or more, with 万/亿 if it has one, and not the year,
    # month or hour it starts nor part of a Latin code (K007) or unit (7.3km).
    "number": re.compile(
        rf"{_AMOUNT}\s*(?:{_UNITS})"
        r"|(?<![\d.,a-z])(?<!\d，)(?:\d{2,}(?:,\d{3}(?!\d))*(?:\.\d+)?|\d\.\d+)(?:\s*[万亿]+)?"
        r"(?!\d|[.,，]\d|\s*[年月日号时点分秒a-z])"
    ),
}
# Words of a question that ask rather than say what the answer is near.
_ASKING = re.compile(r"多少|几|哪|什么|怎么|怎样|如何|是否|吗|呢|请问|一共|总共|共计|大概|大约")
# An expression is read with its own clause and the one before, within its sentence.
_SENTENCE_END = re.compile(r"[。！？!?\n]")
_CLAUSE_END = re.compile(r"[,，、；;:：]")
_CLAUSE_SPLIT = re.compile(r"[,，、；;:：。！？!?\n]")
_AFTER = 8
# Characters each side of an asking word that say what is asked (its predicate).
_PREDICATE = 4
# The kinds whose expressions are numbers with a unit of their own.
_SPECIFIC = ("time", "date", "age", "area", "money", "share")
# What a share answers when asked with a bare 多少 (进度是多少: 73%; 同比增长多少: 129.09%).
_SHARE_WORDS = re.compile(r"进度|比例|比重|占比|比率|率|同比|环比|增长|增幅|涨幅|降幅|下降|上涨")
# 多少老人 counts people; 补贴涨了多少 asks for the sum a money word names.
_COUNTS_THINGS = re.compile(r"(?:多少|几)[\u4e00-\u9fff]")
_MONEY_WORD = re.compile(MONEY_WORDS)

# The question's character pairs an answer's clause must share, and how many more of them
# than the runner-up's when the asking word's pairs tie (chosen on the train split of
# benchmarks/answer_spans.py: precision 86.6% at 0, 88.0% at 1, 90.4% at 2, 91.4% at 3, with
# 67%, 66%, 63%, 60% of the questions answered).
MIN_NEAR = 1
MARGIN = 2
# 哪几个方面 asks which, 第几 a rank: no count answers them.
_NOT_A_COUNT = re.compile(r"哪几|第几|第多少|几月|几日|几号|几点|几时|几几年|编号|代号|型号")
# A count asked beside another question (几位科学家使用什么工具) is not what is answered.
_ASKS_ANOTHER = re.compile(r"谁|什么|哪些|哪个|哪位|哪里|哪儿|如何|怎么|怎样|为什么|为何")
# What a count or amount without a unit in the question is measured in.
_LENGTHS = "米|公里|千米|公尺|公分|英尺|英寸|英里|海里|码"
_MEASURES = tuple(
    (re.compile(word), re.compile(f"(?:{units})$"))
    for word, units in (
        ("重量|体重|重多少|多重|质量", "克|公斤|千克|吨|磅|斤|盎司"),
        ("时速|速度|速率", f"{_LENGTHS}|节"),
        ("海拔|高度|身高|体长|身长|长度|宽度|深度|距离|全长|总长|直径|半径|厚度", _LENGTHS),
        ("多高|多长|多宽|多深|多远", _LENGTHS),
        ("面积", _AREA),
        ("人口|人数", "人|万|亿|\\d"),
    )
)
# A question asking for an amount per person, per meal, per unit (每人每月, 每顿饭, 每部, 人均) is
# answered only from a sentence that speaks per unit too: a total beside it is no answer.
_PER_UNIT = re.compile(r"每(?:[一个位名人户部台件所家顿餐次天日周月年]|学生)|人均|平均每")
_PER_UNIT_ANSWER = re.compile(r"每|人均|均|/|／|一[个位名人户部台件所家顿餐次天日周月年]")
# A question about another year than the one written of (明年, 去年) is answered only from a
# sentence that names it, or names a year.
# (Not the 前年/后年 of 提前年度, 以后年收入.)
_OTHER_YEAR = re.compile(r"明年|去年|(?<![以提之此最])前年|(?<![以之此然最])后年|下一年|上一年")
# A year a question names (2024年配置多少台) and one a sentence is about: a sentence naming
# only other years does not answer it.
_YEAR_NAMED = re.compile(r"(?<!\d)((?:1[5-9]|20)\d\d)\s*年(?!代|历史|前|以来|左右|间)")
# What joins an old value to the new one: 从800台增加至1000台, 由0~6岁扩大到0~15岁.
_CHANGE = re.compile(
    r"\s*(?:增加|增长|提高|提升|扩大|上升|下降|减少|降低|调整|上调|下调|变)?\s*(?:至|到|为)\s*"
)
_LEAD = 8  # characters before an old value that may name what it is of: 2022年的
# A figure a change verb leads (`每人每月提高20元`, `增支217.5亿元`) is the change, not the level
# reached: it does not answer a question asking for the total or the level (`提高以后每人每月一共
# 能领多少钱`), unless the question asks for the change itself (`提高了多少`).
_RAISE = r"提高|提升|增加|增长|增支|上涨|上调|涨|下降|减少|降低|下调|减"
_DELTA = re.compile(rf"(?:{_RAISE})了?\s*$")
_ASKS_LEVEL = re.compile(rf"一共|总共|合计|总额|总计|(?:以|之|{_RAISE})后")
_ASKS_CHANGE = re.compile(rf"(?:{_RAISE}|多)了?(?:多少|几)|幅度|增幅|涨幅|降幅")
# A calendar year (or a span of years, or a bare 1990) counts nothing.
_YEAR = re.compile(rf"(?:1[5-9]|20)\d\d\s*年?(?:{_RANGE}(?:1[5-9]|20)\d\d\s*年?)?")
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
_ONE = re.compile(r"[一1]\s*\S")
# The measure word a count question names: 多少个岗位 -> 个, 几所学校 -> 所.
_ASKED_UNIT = re.compile(rf"(?:多少|几)\s*({_UNITS})")


@dataclass(frozen=True)
class Found:
    """An expression of the asked kind in the passage, and how near the question's words are:
    `near` counts the pairs by the asking word in its clause or the clause before, then all
    pairs in its clause, then in the one before; `own_first` reads its own clause first (the
    pairs by the asking word, then all), then the clause before."""

    start: int
    end: int
    text: str
    near: tuple[int, int, int]
    own_first: tuple[int, int, int, int]


@dataclass(frozen=True)
class Pairs:
    """A question's character pairs that say something: those by its asking word (the
    predicate, `累计发了` in `今年累计发了多少钱`) and all of them."""

    by_asking: frozenset[str]
    every: frozenset[str]


def aligned_text(text: str) -> str:
    """Return text lowercased, full-width forms and Traditional characters folded, with the
    same length as text (a character whose folding changes the length is kept as it is:
    `İ`, ligatures), so that offsets found in it are offsets in text. The full-width comma
    stays: a clause break, not the thousands' comma it would fold to."""
    folded = "".join(_fold(ch) for ch in text)
    simplified = to_simplified(folded)
    return simplified if len(simplified) == len(folded) else folded


def _fold(ch: str) -> str:
    if ch == "，":
        return ch
    folded = unicodedata.normalize("NFKC", ch).lower()
    return folded if len(folded) == 1 else ch


def question_pairs(question: str) -> Pairs:
    """Return the question's character pairs that say something (not 多少, 什么, 哪个)."""
    text = aligned_text(question)
    near: set[str] = set()
    for asking in _ASKING.finditer(text):
        for side in (
            text[max(0, asking.start() - _PREDICATE) : asking.start()],
            text[asking.end() : asking.end() + _PREDICATE],
        ):
            near |= _pairs(_ASKING.sub(" ", side))
    return Pairs(frozenset(near), _pairs(_ASKING.sub(" ", text)))


def _pairs(text: str) -> frozenset[str]:
    return frozenset(
        text[i : i + 2]
        for i in range(len(text) - 1)
        if _is_word_char(text[i]) and _is_word_char(text[i + 1])
    )


def answer_span(question: str, passage: str) -> tuple[int, int] | None:
    """Return the [start, end) offsets in passage of the answer to the question, or None.

    Only for questions asking for a kind search/asks.py knows; None when the passage has no
    expression of it, or no single best one.
    """
    if is_latin(question) and not is_latin(passage):
        return None  # read through its translation: its words are not the passage's
    # A post (主任, 局长) has no expression read here.
    kinds = tuple(k for k in asked_kinds(question) if k.name in EXPRESSIONS)
    asked = aligned_text(question)
    if not kinds or _ASKS_ANOTHER.search(asked):
        return None
    kind = next((k for k in kinds if k.decisive), kinds[0])
    if kind.name == "number" and _NOT_A_COUNT.search(asked):
        return None
    text = aligned_text(passage)
    stated = set(_FIGURE.findall(asked))
    spans = _unchanged(text, _expressions(EXPRESSIONS[kind.name], text), stated)
    if kind.name == "number":
        spans = _counts(text, spans, {k.name for k in kinds}, asked)
    if unit := _ASKED_UNIT.search(asked):
        # 多少个岗位 by a count of 个, not the year nearby; 多少亩 in 亩, not 平方米.
        spans = [(a, b) for a, b in spans if text[a:b].endswith(unit.group(1))]
    elif kind.name == "number":
        # 海拔多少 by metres, 重量是多少 by a weight.
        units = next((u for word, u in _MEASURES if word.search(asked)), None)
        if units is not None:
            spans = [(a, b) for a, b in spans if units.search(text[a:b])]
    # A figure the question states (`600万人口中…多少比例`, `至道三年…多少路`) is not what it asks.
    spans = [
        (a, b)
        for a, b in spans
        if text[a:b] not in asked and not stated.intersection(_FIGURE.findall(text[a:b]))
    ]
    if not spans:
        return None
    found = _scored(text, spans, question_pairs(question))
    best = max(f.near for f in found)
    top = {f.text for f in found if f.near == best}
    # The clause before may say what is asked (累计发放…,补贴5746.72万元) or only name the topic
    # (“免费送戏下乡进村”惠民工程…,送戏总数已突破10万场): when reading the expression's own clause
    # first picks another answer, none is given.
    if max(found, key=lambda f: f.own_first).text not in top:
        return None
    if sum(best) < MIN_NEAR or len(top) > 1:
        return None
    # And only a clear winner: with as many of the asking word's pairs as the runner-up, it
    # needs MARGIN more of all the question's pairs in its clause.
    rivals = [f.near for f in found if f.text not in top]
    if rivals:
        second = max(rivals)
        if best[0] == second[0] and best[1] - second[1] < MARGIN:
            return None
    chosen = next(f for f in found if f.near == best)
    sentence = _sentence(text, chosen.start)
    if _PER_UNIT.search(asked) and not _PER_UNIT_ANSWER.search(sentence):
        return None  # 每顿饭多少钱 is not answered by a total (2.02亿元专项资金)
    if (
        _DELTA.search(text[max(0, chosen.start - 4) : chosen.start])
        and _ASKS_LEVEL.search(asked)
        and not _ASKS_CHANGE.search(asked)
    ):
        return None  # 一共能领多少钱 is not answered by the raise (提高20元)
    other_year = _OTHER_YEAR.search(asked)
    if other_year and other_year.group() not in sentence and not _YEAR.search(sentence):
        return None  # 明年计划多少场 is not answered by this year's count
    named = set(_YEAR_NAMED.findall(asked))
    written = set(_YEAR_NAMED.findall(sentence))
    if named and written and not named & written:
        return None  # 2024年配置多少台 is not answered by 2023年的1000台
    return chosen.start, chosen.end


def _sentence(text: str, at: int) -> str:
    """Return the sentence of text holding position `at`."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, at)]
    start = ends[-1] if ends else 0
    found = _SENTENCE_END.search(text, at)
    return text[start : found.end() if found else len(text)]


def _expressions(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """Return where the pattern's expressions are in text (ranges joined: `15时—8月31日15时`),
    without surrounding spaces."""
    merged: list[tuple[int, int]] = []
    for m in pattern.finditer(text):
        start, end = _trim(text, m.start(), m.end())
        if start == end:
            continue
        if merged and re.fullmatch(_RANGE, text[merged[-1][1] : start]):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _unchanged(text: str, spans: list[tuple[int, int]], stated: set[str]) -> list[tuple[int, int]]:
    """Drop the old value of a change (`从2022年的800台增加至1000台`, `由0~6岁扩大到0~15岁`),
    unless the question names what it is of (`2022年配了多少台？`)."""
    if not spans:
        return spans
    starts = [a for a, _ in spans[1:]] + [len(text)]
    kept = []
    for (a, b), following in zip(spans, starts, strict=True):
        lead = text[max(0, a - _LEAD) : a]
        changed = following < len(text) and _CHANGE.fullmatch(text[b:following])
        if not changed or any(figure in lead for figure in stated):
            kept.append((a, b))
    return kept


def _counts(
    text: str, spans: list[tuple[int, int]], kinds: set[str], asked: str
) -> list[tuple[int, int]]:
    """Return the expressions that can answer a count or amount question."""
    # 一个, 一种 mostly say "a"; 2004年 is a year; a share answers only a question about one
    # (进度, 比例); 20元 answers no 多少老人 (a sum is no count), but may answer 安排多少.
    unasked = {name for name in _SPECIFIC if name not in kinds}
    if not _COUNTS_THINGS.search(asked):
        unasked.discard("money")
    if _SHARE_WORDS.search(asked):
        unasked.discard("share")
    others = [EXPRESSIONS[name] for name in unasked]
    return [
        (a, b)
        for a, b in spans
        if not _ONE.fullmatch(text[a:b])
        and not _YEAR.fullmatch(text[a:b])
        and not any(o.fullmatch(text[a:b]) for o in others)
    ]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _scored(text: str, spans: list[tuple[int, int]], pairs: Pairs) -> list[Found]:
    """Return each expression with how near the question's words are to it (_near)."""
    sentence_starts = [0] + [m.end() for m in _SENTENCE_END.finditer(text)]
    found = []
    for i, (start, end) in enumerate(spans):
        floor = spans[i - 1][1] if i else 0
        ceiling = spans[i + 1][0] if i + 1 < len(spans) else len(text)
        sentence = sentence_starts[bisect.bisect_right(sentence_starts, start) - 1]
        near, own_first = _near(
            text, start, end, pairs, max(floor, sentence), ceiling, floor > sentence
        )
        found.append(Found(start, end, text[start:end], near, own_first))
    return found


def _near(
    text: str,
    start: int,
    end: int,
    pairs: Pairs,
    floor: int,
    ceiling: int,
    after_expression: bool = False,
) -> tuple[tuple[int, int, int], tuple[int, int, int, int]]:
    """Return how near the question's pairs are to an expression (Found.near, Found.own_first).

    Clauses end at commas and enumeration commas, and reach neither into the sentence before
    nor past the expressions before and after (`floor`, `ceiling`): in
    `按照研究生每人每年6000元、本科生每人每年5000元、大专生每人每年4000元`, 本科 is 5000元's, and
    the lead-in of such a list is no item's; in `省级安排资金9320万元对各县给予60~120万元`,
    安排资金 is 9320万元's; in `今年1月至8月份累计发放补贴760422人次,补贴5746.72万元`, 累计发放
    is near 5746.72万元 through the clause before.
    """
    before = text[floor:start]
    cuts = [0] + [m.end() for m in _CLAUSE_END.finditer(before)]
    after = _CLAUSE_SPLIT.split(text[end : end + _AFTER], maxsplit=1)[0]
    if end + len(after) > ceiling:
        after = ""  # what leads to the next expression is that one's: 由0~6岁扩大到0~15岁
    own = before[cuts[-1] :] + " " + after
    # The clause before, unless it is the one the expression before ends (`115所通过食堂供餐的
    # 学校…,169所…`: that clause says what 115所 is).
    previous = (
        before[cuts[-2] : cuts[-1]]
        if len(cuts) >= 3 or (len(cuts) == 2 and not after_expression)
        else ""
    )
    in_list = (
        before[cuts[-1] - 1 : cuts[-1]] == "、"
        or text[end + len(after) : end + len(after) + 1] == "、"
    )
    if in_list:  # the list's lead-in is every item's, so no item's
        previous = ""
    own_asking = sum(pair in own for pair in pairs.by_asking)
    own_all = sum(pair in own for pair in pairs.every)
    previous_all = sum(pair in previous for pair in pairs.every)
    either_asking = sum(pair in own or pair in previous for pair in pairs.by_asking)
    previous_asking = sum(pair in previous for pair in pairs.by_asking)
    return (either_asking, own_all, previous_all), (
        own_asking,
        own_all,
        previous_asking,
        previous_all,
    )


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() and not ch.isspace()
