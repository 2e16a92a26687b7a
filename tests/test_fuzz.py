"""Fuzz tests: arbitrary Unicode, control characters, markup and long strings never crash."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.render import match_spans, render_json, render_text
from retrieval.errors import QabotError
from retrieval.ingest import load_documents, parse_text
from retrieval.search import Searcher

# Text that looks like the corpus: CJK, ASCII, markup, headings, blank lines, odd whitespace.
pieces = st.sampled_from(
    ["\n", "\n\n", "# ", "## ", "### ", "◆", "记者 尹哲", "(上接第1版)", "2023年8月29日", "。", ",",
     ":", "：", "<b>", "&amp;", "\t", "\u3000", "\x00", "\x1b[1m", "\r\n", "  \n", "特此通告"]
)  # fmt: skip
texts = st.lists(st.one_of(st.text(max_size=40), pieces), max_size=60).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_parser_never_crashes_and_numbers_in_order(text: str) -> None:
    paragraphs = parse_text(text, "fuzz")
    assert [p.number for p in paragraphs] == list(range(1, len(paragraphs) + 1))
    for p in paragraphs:
        assert re.search(r"\w", p.text)
        assert p.section
    headings = {line.strip() for line in text.splitlines() if re.match(r"\s*#{1,6}\s", line)}
    for p in paragraphs:  # a heading is a section, never text
        assert not headings & set(p.text.split("\n"))


@settings(max_examples=30, deadline=None)
@given(texts, st.integers(2_000, 20_000))
def test_parser_handles_very_long_text(text: str, repeat: int) -> None:
    parse_text((text + "\n") * repeat, "fuzz")


def test_many_short_lines_stay_linear_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # Thousands of short unpunctuated lines (a list, a table): each block is looked at a
    # bounded number of times (no quadratic scans), and they do not become one huge paragraph.
    import retrieval.ingest.cutter as documents

    calls = 0
    real = documents._is_deck_line

    def counting(block: list[str]) -> bool:
        nonlocal calls
        calls += 1
        return real(block)

    monkeypatch.setattr(documents, "_is_deck_line", counting)
    n = 20_000
    paragraphs = parse_text("\n\n".join(f"第{i}项 名单" for i in range(n)), "list")
    assert calls <= 3 * n
    assert max(len(p.text) for p in paragraphs) <= documents.MAX_JOINED_CHARS + 40
    assert "".join(p.text for p in paragraphs).count("名单") == n


questions = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "So"]), max_size=50),
    st.text(min_size=1990, max_size=2100),
    texts,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question=questions, k=st.integers(1, 50), offset=st.integers(0, 80))
def test_query_path_answers_or_explains(
    searcher: Searcher, question: str, k: int, offset: int
) -> None:
    try:
        answer = searcher.search(question, k=k, offset=offset)
    except QabotError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert len(answer.passages) <= k
    assert [p.rank for p in answer.passages] == list(
        range(offset + 1, offset + 1 + len(answer.passages))
    )
    render_text(answer, color=True)
    render_json(answer)
    for p in answer.passages:
        for start, end in match_spans(p.paragraph.text, [question.lower()[:5]]):
            assert 0 <= start < end <= len(p.paragraph.text)


def test_empty_corpus_file_in_fuzzed_folder(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# 只有标题\n", encoding="utf-8")
    with pytest.raises(QabotError, match="no readable text"):
        load_documents([tmp_path])
