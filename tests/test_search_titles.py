"""Tests for retrieval.search.titles: a question naming a paragraph's title prefers it."""

from __future__ import annotations

from retrieval.ingest import Paragraph
from retrieval.search.titles import TITLE_BONUS, prefer_named_titles, title_named

CONTEST = Paragraph("wiki", 1, "2008年度香港小姐竞选", "2008年度香港小姐竞选在将军澳电视城举行。")
WINNER = Paragraph("wiki", 2, "张舒雅", "张舒雅，2008年香港小姐冠军。")
RIVER = Paragraph("wiki", 3, "雅芳河 (汉普郡)", "雅芳河源于英格兰威尔特郡。")
NEWS = Paragraph("news", 4, "我省落实今年12件民生实事成效显著 › 人群密集公共场所增配AED", "……")
LOOSE = Paragraph("news", 5, "news", "文件开头没有标题的一段。")  # no heading: section = doc


def test_a_title_is_the_last_part_of_the_section_without_its_qualifier() -> None:
    assert title_named("2008年度香港小姐竞选是在哪里举行的?", CONTEST)
    assert title_named("雅芳河最终注入什么地方?", RIVER)  # "(汉普郡)" is not needed
    assert title_named("人群密集公共场所增配aed进展如何?", NEWS)  # lowercased, as asked
    assert not title_named("我省落实今年12件民生实事成效显著吗?", NEWS)  # only the last part
    assert not title_named("news里说了什么?", LOOSE)  # a file name is no title
    assert not title_named("张舒雅是谁?", CONTEST)
    park = Paragraph("news", 6, "海峡两岸(太原)产业园开园", "……")
    assert title_named("海峡两岸(太原)产业园开园是哪天?", park)  # brackets inside stay
    age = Paragraph("doc", 7, "Age", "…")
    assert title_named("what is the age limit?", age)
    assert not title_named("what is the average?", age)  # whole words for Latin titles


def test_the_named_title_moves_up_by_the_bonus() -> None:
    paragraph = {1: CONTEST, 2: WINNER}.__getitem__
    ranking = [(2, 3.0), (1, 2.5)]
    moved = prefer_named_titles("2008年度香港小姐竞选是由哪个单位举行的？", ranking, paragraph)
    assert moved == [(1, 2.5 + TITLE_BONUS), (2, 3.0)]
    # Full-width and Traditional forms are normalised before the match.
    traditional = prefer_named_titles("2008年度香港小姐競選在哪裡舉行？", ranking, paragraph)
    assert traditional[0][0] == 1
    # No title named: the ranking is returned as it is.
    assert prefer_named_titles("冠军是谁？", ranking, paragraph) is ranking
