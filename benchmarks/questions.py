"""The questions the benchmarks ask: a fixed sample, and the gold questions of the corpus."""

from __future__ import annotations

import json
from pathlib import Path

GOLD = Path(__file__).resolve().parents[1] / "corpus" / "gold" / "queries.jsonl"

# Simplified, Traditional and English; short and long; about the bundled corpus.
SAMPLE = [
    "今年计划免费送戏下乡多少场？",
    "青年路什么时候停水",
    "放心午餐覆盖多少所小学",
    "全省加装了多少部电梯",
    "今年民生支出多少钱",
    "How many free opera performances were planned this year?",
    "海峽兩岸產業園在哪裡",
    "残疾儿童救助年龄扩大到多少岁",
    "零工市场提供了多少岗位",
    "AED今年配置多少台",
]


def gold_questions() -> list[str]:
    """The gold questions of the bundled corpus (the sample if there are none)."""
    if not GOLD.is_file():
        return list(SAMPLE)
    lines = GOLD.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()]
