"""Tests for qabot eval: metrics by hand, the BEIR reader, the gold set, quality regressions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bot.cli.main import main
from retrieval.config import BUNDLED_CORPUS
from retrieval.engine import Engine
from retrieval.eval.beir import DatasetError, Query, corpus_records, load_dataset
from retrieval.eval.evaluate import MethodResult, gold_rank, run_dict, score
from retrieval.eval.targets import GOLD_SET, open_gold, over_served_index
from retrieval.ingest import load_documents
from tests.conftest import DATA

SLICE = DATA / "cmrc-slice"


def tiny_dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    corpus = [{"_id": f"d{i}", "title": "", "text": f"paragraph {i}"} for i in range(12)]
    queries = [{"_id": f"q{i}", "text": f"question {i}"} for i in range(1, 5)]
    (folder / "corpus.jsonl").write_text(
        "\n".join(json.dumps(c) for c in corpus) + "\n", encoding="utf-8"
    )
    (folder / "queries.jsonl").write_text(
        "\n".join(json.dumps(q) for q in queries) + "\n", encoding="utf-8"
    )
    rows = ["query-id\tcorpus-id\tscore", "q1\td1\t1", "q2\td2\t1", "q3\td3\t1", "q4\td4\t1"]
    (folder / "qrels" / "test.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_metrics_agree_with_values_worked_out_by_hand(tmp_path: Path) -> None:
    dataset = load_dataset(tiny_dataset(tmp_path))
    others = [f"d{i}" for i in range(5, 12)] + ["d0"]
    rankings = {
        "q1": [("d1", 9.0), *[(d, 1.0) for d in others]],  # gold first
        "q2": [(others[0], 9.0), ("d2", 5.0), *[(d, 1.0) for d in others[1:]]],  # second
        # gold eleventh: outside every cut-off; pytrec_eval's recip_rank alone would give 1/11
        "q3": [*[(f"x{i}", 20.0 - i) for i in range(10)], ("d3", 1.0)],
        "q4": [],  # nothing returned: a miss, not a question left out
    }
    result = MethodResult("hand", rankings, seconds=1.0)
    score(dataset, [result])
    m = result.metrics
    assert m["R@1"] == pytest.approx(1 / 4)
    assert m["R@3"] == pytest.approx(2 / 4)
    assert m["R@10"] == pytest.approx(2 / 4)
    assert m["RR@10"] == pytest.approx((1 + 1 / 2) / 4)
    assert m["nDCG@10"] == pytest.approx((1 + 1 / math.log2(3)) / 4)
    assert result.per_query["q3"]["RR@10"] == 0.0
    assert result.per_query["q4"]["R@10"] == 0.0
    assert result.qps == pytest.approx(4.0)


def test_run_scores_follow_the_ranking_even_when_scores_tie() -> None:
    run = run_dict({"q": [("b", 1.0), ("a", 1.0), ("c", 1.0)]})
    assert sorted(run["q"], key=lambda d: -run["q"][d]) == ["b", "a", "c"]
    assert gold_rank([("b", 1.0), ("a", 1.0)], {"a": 1}) == 2
    assert gold_rank([], {"a": 1}) is None


def _write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("queries.jsonl", None, "has no queries.jsonl"),
        ("corpus.jsonl", '{"_id": "d1", "text": "x"}\nnot json\n', r"corpus.jsonl:2: not a JSON"),
        ("corpus.jsonl", '{"text": "no id"}\n', r"corpus.jsonl:1: a record needs an \"_id\""),
        ("queries.jsonl", '{"_id": "q1", "text": ""}\n', "question 'q1' has no"),
        ("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\n", "expected 3 tab-separated"),
        ("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\thigh\n", "'high' is not a whole"),
        ("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq9\td1\t1\n", "question 'q9', not in"),
        ("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td99\t1\n", "paragraph 'd99'"),
    ],
)
def test_bad_question_sets_are_one_line_errors(
    tmp_path: Path, name: str, text: str | None, message: str
) -> None:
    folder = tiny_dataset(tmp_path)
    if text is None:
        (folder / name).unlink()
    else:
        _write(folder, name, text)
    with pytest.raises(DatasetError, match=message) as caught:
        load_dataset(folder)
    assert "\n" not in str(caught.value)


def test_missing_folder_says_what_is_expected(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no question set at .* corpus.jsonl"):
        load_dataset(tmp_path / "nowhere")


def test_questions_without_qrels_are_unanswerable(tmp_path: Path) -> None:
    folder = tiny_dataset(tmp_path)
    _write(folder, "queries.jsonl", '{"_id": "q1", "text": "a"}\n{"_id": "q5", "text": "b"}\n')
    _write(folder, "qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    dataset = load_dataset(folder)
    assert [q.id for q in dataset.answerable] == ["q1"]
    assert [q.id for q in dataset.unanswerable] == ["q5"]
    assert dataset.limited(1).queries == [Query("q1", "a")]


def test_gold_set_is_as_the_issue_asks() -> None:
    gold = load_dataset(GOLD_SET)
    langs = [q.meta["lang"] for q in gold.queries]
    assert len(gold.queries) >= 60
    assert langs.count("en") >= 6 and langs.count("zh-Hant") >= 4
    assert len(gold.unanswerable) >= 8
    assert all(q.meta["kind"] == "unanswerable" for q in gold.unanswerable)
    assert {q.meta["split"] for q in gold.queries} == {"dev", "test"}


def test_gold_corpus_file_matches_the_parser() -> None:
    documents, _ = load_documents([BUNDLED_CORPUS])
    expected = list(corpus_records(documents))
    lines = (GOLD_SET / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    # When this fails, the corpus or parser changed: regenerate with
    #   python -m retrieval.eval.beir corpus > corpus/gold/corpus.jsonl  (and check the qrels)
    assert [json.loads(line) for line in lines] == expected


def test_gold_set_is_not_indexed_as_a_document() -> None:
    documents, _ = load_documents([BUNDLED_CORPUS])
    assert all("gold" not in str(d.path.relative_to(BUNDLED_CORPUS)) for d in documents)


def test_slice_carries_its_licence() -> None:
    readme = (SLICE / "README.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in readme and "Cui" in readme
    assert len(load_dataset(SLICE).queries) >= 300


def _eval_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main(["eval", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


# Thresholds just under the values measured with the default model (docs/quality.md): a
# change that costs quality fails here.
# Measured: slice hybrid R@1 0.9957 nDCG@10 0.9971, dense 0.9850 0.9890, bm25 0.9915 0.9955;
# gold (155 questions: 101 answerable, 54 unanswerable, 24 of those near-topic and 14 with no
# Chinese) hybrid R@1 0.9406 R@5 1.0 RR@10 0.9607, dense R@1 0.8416, bm25 R@1 0.8416 (one
# gold question is 0.0099); 4.0% of answerable and 50.0% of unanswerable gold questions
# flagged (near-topic 8 of 24, no Chinese 14 of 14), 7 of the latter refused before the index
# (no words, small talk, `???` asking for help); the blind set
# (benchmarks/data/blind, 60 answerable) hybrid R@1 0.8000 R@3 1.0, dense R@1 0.8333,
# 3.3% / 35.0% flagged; blind2 hybrid R@1 0.8583, dense 0.7750, 0.0% / 10.0% flagged.
SLICE_FLOOR = {
    "hybrid": {"R@1": 0.99, "nDCG@10": 0.993},
    "dense": {"R@1": 0.975, "nDCG@10": 0.982},
    "bm25": {"R@1": 0.985, "nDCG@10": 0.99},
}
GOLD_FLOOR = {
    "hybrid": {"R@1": 0.91, "R@5": 0.99, "RR@10": 0.94},
    "dense": {"R@1": 0.83},
    "bm25": {"R@1": 0.82},
}


def _check_floor(result: dict[str, object], floor: dict[str, dict[str, float]]) -> None:
    methods = result["methods"]
    assert isinstance(methods, dict)
    for method, wanted in floor.items():
        for measure, least in wanted.items():
            assert methods[method][measure] >= least, (method, measure, methods[method][measure])


@pytest.mark.slow
def test_cmrc_slice_quality_does_not_regress(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report, plot = tmp_path / "report.md", tmp_path / "recall.png"
    result = _eval_json(
        capsys, "--dataset", str(SLICE), "--report", str(report), "--plot", str(plot)
    )
    assert result["questions"] == len(load_dataset(SLICE).answerable)
    _check_floor(result, SLICE_FLOOR)
    methods = result["methods"]
    assert isinstance(methods, dict)
    best_half = max(methods["dense"]["nDCG@10"], methods["bm25"]["nDCG@10"])
    assert methods["hybrid"]["nDCG@10"] >= best_half
    assert "| hybrid |" in report.read_text(encoding="utf-8")
    assert plot.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_gold_set_quality_does_not_regress(capsys: pytest.CaptureFixture[str]) -> None:
    result = _eval_json(capsys)
    _check_floor(result, GOLD_FLOOR)
    conf = result["confidence"]
    assert isinstance(conf, dict)
    assert conf["answerable_flagged"] <= 0.06
    assert conf["unanswerable_flagged"] >= 0.49
    assert conf["refused"] == 7  # 4 with no words, 3 small talk: never reach the index
    by_kind = conf["unanswerable_by_kind"]
    assert {k: v["questions"] for k, v in by_kind.items()} == {
        "off-topic": 16,
        "near-topic": 24,
        "no Chinese": 14,
    }
    assert by_kind["no Chinese"]["flagged"] == 14 and by_kind["off-topic"]["flagged"] >= 5
    assert by_kind["near-topic"]["flagged"] >= 8  # 7 by what they ask for (search/asks.py)


BLIND_SETS = Path(__file__).resolve().parents[1] / "benchmarks" / "data"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "floor"),
    [
        # Measured (docs/quality.md): blind hybrid R@1 0.8000 R@3 1.0, dense 0.8333;
        # blind2 hybrid 0.8583 R@3 0.975, dense 0.7750; 3.3% and 0.0% of answerable flagged.
        ("blind", {"hybrid": {"R@1": 0.78, "R@3": 0.98}, "dense": {"R@1": 0.8}}),
        ("blind2", {"hybrid": {"R@1": 0.84, "R@3": 0.96}, "dense": {"R@1": 0.76}}),
    ],
)
def test_a_set_without_a_corpus_is_asked_of_the_bots_own_index(
    capsys: pytest.CaptureFixture[str], name: str, floor: dict[str, dict[str, float]]
) -> None:
    # The blind sets name the bundled page's paragraphs (DOC#N) and have no corpus.jsonl: they
    # are scored over the served index, as the gold set is. Nothing was tuned on them.
    folder = BLIND_SETS / name
    assert not (folder / "corpus.jsonl").exists()
    result = _eval_json(capsys, "--dataset", str(folder))
    assert (result["questions"], result["unanswerable"], result["paragraphs"]) == (60, 20, 50)
    _check_floor(result, floor)
    conf = result["confidence"]
    assert isinstance(conf, dict) and conf["answerable_flagged"] <= 0.06


@pytest.mark.slow
def test_a_set_without_its_corpus_naming_other_paragraphs_says_what_is_missing(
    seed_engine: Engine, tmp_path: Path
) -> None:
    # A BEIR set copied without its corpus.jsonl: its ids are not the bot's paragraphs.
    (tmp_path / "qrels").mkdir()
    (tmp_path / "queries.jsonl").write_text('{"_id": "q1", "text": "谁"}\n', encoding="utf-8")
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\tDEV_0\t1\n")
    assert over_served_index(tmp_path)
    with pytest.raises(DatasetError, match="has no corpus.jsonl") as problem:
        open_gold(seed_engine, tmp_path)
    assert "'DEV_0'" in str(problem.value) and "DOC#N" in str(problem.value)
    assert problem.value.remedy is None  # not "update the gold set"


@pytest.mark.slow
def test_failures_name_the_gold_rank_and_the_passage_above(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["eval", "--methods", "bm25", "--failures", "3"]) == 0
    out = capsys.readouterr().out
    assert "question(s) without the gold paragraph first" in out
    assert "ranked first:" in out or "nothing was ranked" in out


@pytest.mark.slow
def test_json_failures_stay_inside_each_sets_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--methods", "bm25", "--failures", "2"]) == 0
    text = capsys.readouterr().out
    assert main(["eval", "--methods", "bm25", "--failures", "2", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]  # `| jq` works
    assert len(records) == 1
    misses = records[0]["failures"]["bm25"]
    assert 1 <= len(misses) <= 2  # bm25 misses some of the gold set
    for miss in misses:
        assert set(miss) == {"id", "question", "gold", "gold_rank", "first"}
        assert miss["gold_rank"] != 1 and miss["first"] not in miss["gold"]
        assert f"[bm25] {miss['id']}: {miss['question']}" in text  # the same list as the text's


def test_a_folder_without_questions_says_so_first(tmp_path: Path) -> None:
    # Without corpus.jsonl a set is still valid (asked of the bot's own index): not the news.
    for need_corpus in (True, False):
        with pytest.raises(DatasetError, match="has no queries.jsonl"):
            load_dataset(tmp_path, need_corpus=need_corpus)
