"""Measure incremental indexing: `qabot index` after one small change, against a full build.

Run: python benchmarks/incremental.py [--runs N] [--rounds M] [--profile FILE.prof] [--json FILE]
Target (incremental indexing): on a 10,000-paragraph corpus, the `qabot index` after adding
one small document takes < 5% of a full build.

What it does:
- Writes the synthetic Chinese corpus of benchmarks/scale.py (10 documents of 1,000
  paragraphs) to a temporary folder. Each full build gets a fresh temporary QABOT_HOME whose
  models/ links to the default model already prepared in the usual QABOT_HOME, so nothing is
  downloaded or rebuilt and the real default model embeds every paragraph.
- Runs the real command `qabot index --corpus DIR` as a subprocess and times its wall clock
  (and its CPU time, since the machine is shared): 1. the full build from nothing, 2. again
  with nothing changed, 3. after adding one small document (6 paragraphs), 4. after changing
  one paragraph of one document, 5. after removing one document: the small one of step 3,
  so that every round starts from the same corpus (keeping the big corpus is the costlier
  case: all but the embedding is in proportion to what remains).
- Reads how many paragraphs each step embedded and reused from the command's own line
  "Indexed ... (E embedded, R reused)" and checks them: none, the new document's paragraphs,
  one, none. After step 3 it asks `qabot ask` a question that only the new document answers;
  that paragraph must come first.

Repeats: a full build embeds 10k paragraphs and takes minutes on 2 cores, so `--runs`
(full builds) defaults to 1. Steps 2-5 take seconds; they are repeated `--rounds` times
(default 5) on the last full build's index, each round adding a document with new text and
changing another paragraph, so each round does the same work. The table shows medians;
a ratio is a step's median over the full build's median.

`--profile FILE` adds one more "add one document" step under cProfile (not in the table) and
prints where its time goes. Exit status 1 when the ask check or an embedded count is wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.scale import PARAGRAPHS_PER_DOC, vocabulary, write_corpus  # noqa: E402
from retrieval.config import ENV_CHOICES, ENV_HOME, Settings, load_settings  # noqa: E402

TARGET_RATIO = 0.05
INDEXED = re.compile(
    r"Indexed (?P<count>\d+) paragraphs from \d+ document\(s\) in (?P<seconds>[\d.]+) s "
    r"\((?P<embedded>\d+) embedded, (?P<reused>\d+) reused\)"
)
STEPS = (
    "full build",
    "nothing changed",
    "add one document",
    "change one paragraph",
    "remove one document",
)
# Words that the newspaper vocabulary of the synthetic corpus never has, so that only the
# added document can answer the question about it.
ADDED_DOC = """# 青岚湖观鸟节通知(第{round}期)

第{round}届青岚湖观鸟节将于10月12日在澄碧镇湿地公园开幕,为期五天,免费向公众开放。

本届观鸟节共展出候鸟标本三百余种,其中黑鹳、青头潜鸭等珍稀鸟类的标本是首次公开展出。

开幕当天上午九点,澄碧镇将举行放飞仪式,由志愿者放归二十只救助康复的苍鹭。

观鸟节期间,湿地公园每天安排四场讲解,每场限额八十人,须提前通过公众号预约。

自驾游客请把车停在澄碧镇游客中心停车场,景区内禁止机动车通行,另有电瓶车接驳。

湿地公园提醒游客不要投喂鸟类,不要使用闪光灯拍摄,雨天部分栈道将临时关闭。
"""
QUESTION = "青岚湖观鸟节在哪里开幕？"
ANSWER_TEXT = "澄碧镇湿地公园开幕"


class BenchmarkError(Exception):
    """A command failed or the index is not what the benchmark expects."""


@dataclass(frozen=True)
class Sample:
    """One timed `qabot index`: what it cost and what it did."""

    wall_s: float
    cpu_s: float
    load_1min: float
    rebuilt: bool
    embedded: int | None  # None: the command did not say
    reused: int | None
    command_s: float | None  # the command's own figure: from embedding to the new index in place
    count: int  # paragraphs in the index afterwards


def qabot_command() -> list[str]:
    """Return the `qabot` console script of this Python, as a user runs it."""
    script = Path(sys.executable).with_name("qabot")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "bot.cli.main"]


def make_home(root: Path, model_folder: Path) -> Path:
    """Make an empty QABOT_HOME that shares the prepared default model folder."""
    home = Path(tempfile.mkdtemp(prefix="home-", dir=root))
    (home / "models").mkdir()
    (home / "models" / model_folder.name).symlink_to(model_folder, target_is_directory=True)
    return home


def qabot_env(home: Path) -> dict[str, str]:
    # Settings a user might have exported would make this not the default model's index.
    env = {k: v for k, v in os.environ.items() if k not in ENV_CHOICES}
    env[ENV_HOME] = str(home)
    return env


def run_qabot(args: Sequence[str], env: dict[str, str]) -> tuple[float, float, str, str]:
    """Run `qabot ARGS`; return wall seconds, CPU seconds, stdout and stderr.

    Raises:
        BenchmarkError: the command failed.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [*qabot_command(), *args], cwd=REPO, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise BenchmarkError(f"qabot {' '.join(args)} exited {done.returncode}:\n{tail}")
    return wall, cpu, done.stdout, done.stderr


def read_manifest(index_dir: Path) -> tuple[int, dict[str, int]]:
    """Return the paragraph count of an index and the paragraphs of each of its documents."""
    data = json.loads((index_dir / "manifest.json").read_text("utf-8"))
    return int(data["count"]), {str(d["doc"]): int(d["paragraphs"]) for d in data["documents"]}


def index_once(corpus: Path, home: Path) -> Sample:
    """Time one `qabot index --corpus CORPUS` in HOME and read what it embedded."""
    load = os.getloadavg()[0]
    wall, cpu, _, stderr = run_qabot(["index", "--corpus", str(corpus)], qabot_env(home))
    count, _ = read_manifest(Settings(corpus=(corpus,), home=home).index_dir)
    found = INDEXED.search(stderr)
    embedded: int | None
    reused: int | None
    command_s: float | None
    if found:
        embedded, reused = int(found["embedded"]), int(found["reused"])
        command_s = float(found["seconds"])
    elif "rebuilding" in stderr or "Embedding" in stderr:
        embedded = reused = command_s = None  # rebuilt, but its summary line has changed
    else:
        embedded, reused, command_s = 0, count, None  # the index was fresh: nothing rebuilt
    return Sample(wall, cpu, load, found is not None, embedded, reused, command_s, count)


def doc_paragraphs(index_dir: Path, doc: str) -> int:
    """Return how many paragraphs the index holds of one document."""
    _, documents = read_manifest(index_dir)
    if doc not in documents:
        raise BenchmarkError(f"document {doc} is not in the index at {index_dir}")
    return documents[doc]


def add_document(corpus: Path, round_no: int) -> Path:
    # "added-" sorts before "synthetic-": every row shifts, which a cache by row would miss.
    path = corpus / f"added-{round_no:02d}.md"
    path.write_text(ADDED_DOC.format(round=round_no), encoding="utf-8")
    return path


def change_paragraph(corpus: Path, round_no: int) -> None:
    """Rewrite one paragraph of the middle document with text that no earlier round used."""
    documents = sorted(corpus.glob("synthetic-*.md"))
    path = documents[len(documents) // 2]
    blocks = path.read_text(encoding="utf-8").split("\n\n")
    # Block 0 is the heading; a changed heading would change every paragraph's section.
    at = 1 + (100 + round_no) % (len(blocks) - 1)
    number = blocks[at].split("。", 1)[0]
    blocks[at] = f"{number}。本段在第{round_no}轮测试中被改写,更正了一处统计数字。"
    path.write_text("\n\n".join(blocks), encoding="utf-8")


def ask_check(corpus: Path, home: Path, doc: str) -> dict[str, object]:
    """Ask the question only `doc` answers; report where its paragraph ranks."""
    wall, _, stdout, stderr = run_qabot(
        ["ask", QUESTION, "--corpus", str(corpus), "--json", "-k", "5"], qabot_env(home)
    )
    answers = json.loads(stdout)["answers"]
    rank = next((a["rank"] for a in answers if a["doc"] == doc and ANSWER_TEXT in a["text"]), None)
    return {
        "question": QUESTION,
        "doc": doc,
        "rank": rank,
        "passed": rank == 1,
        "wall_s": round(wall, 2),
        "rebuilt_index": "Indexed" in stderr,
    }


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def describe(sample: Sample) -> str:
    done = "fresh, not rebuilt" if not sample.rebuilt else f"{sample.embedded} embedded"
    return (
        f"{sample.wall_s:.2f} s wall, {sample.cpu_s:.2f} s CPU, {done}, {sample.reused} reused, "
        f"{sample.count} paragraphs (load {sample.load_1min:.2f})"
    )


def profile_phases(path: Path) -> dict[str, float]:
    """Split a cProfile of `qabot index` into the phases of a rebuild (cumulative seconds)."""
    stats = pstats.Stats(str(path))
    table = stats.stats  # type: ignore[attr-defined]

    def cumulative(file_suffix: str, function: str) -> float:
        return sum(
            row[3]
            for (filename, _, name), row in table.items()
            if name == function and filename.replace(os.sep, "/").endswith(file_suffix)
        )

    total = float(stats.total_tt)  # type: ignore[attr-defined]
    main = cumulative("bot/cli/main.py", "main")
    phases = {
        "corpus fingerprint (hash every file)": cumulative(
            "retrieval/ingest/files.py", "corpus_fingerprint"
        ),
        "load + verify the old index": cumulative("retrieval/store/index.py", "load_index"),
        "parse the corpus": cumulative("retrieval/ingest/files.py", "load_documents"),
        "model load: import sentence-transformers, torch": cumulative(
            "sentence_transformers/__init__.py", "<module>"
        ),
        "model load: read the model folder": cumulative(
            "retrieval/embed/encoders.py", "load_encoder"
        ),
        "read reusable vectors (+ checksums)": cumulative(
            "retrieval/store/index.py", "_reusable_vectors"
        ),
        "paragraph text hashes": cumulative("retrieval/store/index.py", "_text_hash"),
        "embed new paragraphs": cumulative("retrieval/embed/sbert.py", "encode_passages")
        + cumulative("retrieval/embed/nano.py", "encode_passages"),
        "FAISS build": cumulative("retrieval/store/faiss_store.py", "build"),
        "BM25 build": cumulative("retrieval/store/lexical.py", "build"),
    }
    in_build = [
        "read reusable vectors (+ checksums)",
        "paragraph text hashes",
        "embed new paragraphs",
        "FAISS build",
        "BM25 build",
    ]
    # The import happens inside load_encoder: what is left of it is reading the weights.
    phases["model load: read the model folder"] -= phases[
        "model load: import sentence-transformers, torch"
    ]
    build = cumulative("retrieval/store/index.py", "build_index")
    phases["write, checksum, fsync, swap"] = build - sum(phases[k] for k in in_build)
    phases["interpreter start + imports"] = total - main
    counted = sum(v for k, v in phases.items() if k != "interpreter start + imports")
    phases["other"] = main - counted
    phases["total (profiled)"] = total
    return {k: round(v, 3) for k, v in phases.items()}


def profile_step(corpus: Path, home: Path, round_no: int, out: Path) -> dict[str, object]:
    """Add one more document and run that `qabot index` under cProfile."""
    add_document(corpus, round_no)
    env = qabot_env(home)
    command = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "bot.cli.main"]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "index", "--corpus", str(corpus)], cwd=REPO, env=env, capture_output=True
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchmarkError(f"the profiled qabot index exited {done.returncode}")
    return {"wall_s": round(wall, 2), "phases_s": profile_phases(out), "file": str(out)}


def summarise(samples: dict[str, list[Sample]]) -> list[dict[str, object]]:
    full = statistics.median([s.wall_s for s in samples["full build"]])
    rows = []
    for step in STEPS:
        taken = samples[step]
        wall = statistics.median([s.wall_s for s in taken])
        known = [s.embedded for s in taken if s.embedded is not None]
        rows.append(
            {
                "step": step,
                "samples": len(taken),
                "wall_s_median": round(wall, 2),
                "ratio_to_full": round(wall / full, 4),
                "cpu_s_median": round(statistics.median([s.cpu_s for s in taken]), 2),
                "embedded_median": statistics.median(known) if known else None,
                "reused_median": statistics.median(
                    [s.reused for s in taken if s.reused is not None] or [0]
                ),
                "runs": [
                    asdict(s) | {"wall_s": round(s.wall_s, 3), "cpu_s": round(s.cpu_s, 3)}
                    for s in taken
                ],
            }
        )
    return rows


def print_table(rows: list[dict[str, object]]) -> None:
    print(
        f"{'step':22} {'n':>2} {'wall s':>8} {'ratio':>7} {'CPU s':>7} "
        f"{'embedded':>9} {'reused':>7}"
    )
    for r in rows:
        embedded = "?" if r["embedded_median"] is None else f"{r['embedded_median']:g}"
        print(
            f"{r['step']:22} {r['samples']:>2} {r['wall_s_median']:>8.2f} "
            f"{r['ratio_to_full']:>7.2%} {r['cpu_s_median']:>7.2f} {embedded:>9} "
            f"{r['reused_median']:>7g}"
        )


def check_counts(samples: dict[str, list[Sample]], added: list[int]) -> list[str]:
    """Return what each step should have embedded but did not (empty when all is right)."""
    problems = []
    expected: dict[str, Sequence[int]] = {
        "nothing changed": [0] * len(samples["nothing changed"]),
        "add one document": added,
        "change one paragraph": [1] * len(samples["change one paragraph"]),
        "remove one document": [0] * len(samples["remove one document"]),
    }
    for step, wanted in expected.items():
        for i, (sample, n) in enumerate(zip(samples[step], wanted, strict=True), 1):
            if sample.embedded is None:
                problems.append(f"{step}, round {i}: the command did not say what it embedded")
            elif sample.embedded != n:
                problems.append(f"{step}, round {i}: embedded {sample.embedded}, expected {n}")
    if samples["nothing changed"] and any(s.rebuilt for s in samples["nothing changed"]):
        problems.append("nothing changed, yet the index was rebuilt")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="full builds (default 1: minutes)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of steps 2-5 (default 5)")
    parser.add_argument("--paragraphs", type=int, default=10_000, help="corpus size")
    parser.add_argument("--profile", type=Path, metavar="FILE.prof", help="profile one more add")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks/results/incremental.json")
    args = parser.parse_args()
    if args.runs < 1 or args.rounds < 1:
        parser.error("--runs and --rounds must be at least 1")

    from retrieval.embed import default_model_folder

    model_folder = default_model_folder(load_settings().models_dir, say)  # ready before timing
    load_start = os.getloadavg()
    say(f"load average {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}")
    samples: dict[str, list[Sample]] = {step: [] for step in STEPS}
    added: list[int] = []
    checks: list[dict[str, object]] = []
    profile: dict[str, object] | None = None
    with tempfile.TemporaryDirectory(prefix="qabot-incremental-") as tmp:
        root = Path(tmp)
        corpus = root / "corpus"
        write_corpus(corpus, args.paragraphs, vocabulary())
        documents = len(list(corpus.glob("*.md")))
        say(f"corpus: {args.paragraphs:,} paragraphs in {documents} documents at {corpus}")
        try:
            home = root
            for run in range(1, args.runs + 1):
                home = make_home(root, model_folder)
                say(f"[1 full build] run {run}/{args.runs} (minutes)...")
                samples["full build"].append(index_once(corpus, home))
                say(f"  {describe(samples['full build'][-1])}")
            index_dir = Settings(corpus=(corpus,), home=home).index_dir
            for round_no in range(1, args.rounds + 1):
                say(f"round {round_no}/{args.rounds}")
                samples["nothing changed"].append(index_once(corpus, home))
                say(f"  [2 nothing changed] {describe(samples['nothing changed'][-1])}")
                path = add_document(corpus, round_no)
                samples["add one document"].append(index_once(corpus, home))
                added.append(doc_paragraphs(index_dir, path.stem))
                say(f"  [3 add one document] {describe(samples['add one document'][-1])}")
                checks.append(ask_check(corpus, home, path.stem))
                say(f"  [ask check] {QUESTION} -> rank {checks[-1]['rank']} of {path.stem}")
                change_paragraph(corpus, round_no)
                samples["change one paragraph"].append(index_once(corpus, home))
                say(f"  [4 change one paragraph] {describe(samples['change one paragraph'][-1])}")
                path.unlink()
                samples["remove one document"].append(index_once(corpus, home))
                say(f"  [5 remove one document] {describe(samples['remove one document'][-1])}")
            if args.profile:
                say(f"[profile] one more 'add one document' under cProfile -> {args.profile}")
                profile = profile_step(corpus, home, args.rounds + 1, args.profile.resolve())
        except BenchmarkError as exc:
            say(f"error: {exc}")
            return 1
    load_end = os.getloadavg()
    say(f"load average {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}")

    rows = summarise(samples)
    print_table(rows)
    ratio = float(rows[2]["ratio_to_full"])  # type: ignore[arg-type]
    met = "met" if ratio < TARGET_RATIO else "NOT met"
    print(f"target: adding one document < {TARGET_RATIO:.0%} of a full build: {met} ({ratio:.2%})")
    failed_checks = [c for c in checks if not c["passed"]]
    print(
        f"ask check ({QUESTION}): "
        + ("passed" if not failed_checks else f"FAILED in {len(failed_checks)} of {len(checks)}")
        + f", ranks {[c['rank'] for c in checks]}"
    )
    problems = check_counts(samples, added)
    for problem in problems:
        print(f"embedded count wrong: {problem}")
    if profile:
        print(f"where one 'add one document' goes (cProfile, {profile['wall_s']} s wall):")
        for phase, seconds in profile["phases_s"].items():  # type: ignore[attr-defined]
            print(f"  {phase:48} {seconds:>7.2f} s")
    result = {
        "paragraphs": args.paragraphs,
        "documents": documents,
        "paragraphs_per_document": PARAGRAPHS_PER_DOC,
        "runs": args.runs,
        "rounds": args.rounds,
        "cpu_count": os.cpu_count(),
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in load_end],
        "target": {
            "ratio": TARGET_RATIO,
            "add_one_document_ratio": ratio,
            "met": ratio < TARGET_RATIO,
        },
        "steps": rows,
        "added_document_paragraphs": added,
        "ask_checks": checks,
        "count_problems": problems,
        "profile": profile,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return 1 if failed_checks or problems else 0


if __name__ == "__main__":
    sys.exit(main())
