"""Show evaluation results: a terminal table, JSON, a Markdown report, failures, a Recall@k plot."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from retrieval.errors import QabotError, UsageError
from retrieval.eval.beir import Query
from retrieval.eval.evaluate import (
    MEASURES,
    Evaluation,
    MethodResult,
    Target,
    flag_rates,
    flagged_by_kind,
    gold_rank,
    group_metrics,
    groups,
    recall_curve,
)

SHOWN = ("R@1", "R@3", "R@5", "R@10", "RR@10", "nDCG@10")
HEADERS = ("method", "R@1", "R@3", "R@5", "R@10", "MRR@10", "nDCG@10", "q/s", "build s")


def _seconds(value: float | None) -> str:
    return "cached" if value is None else f"{value:.1f}"


def table_rows(evaluation: Evaluation) -> list[list[str]]:
    """Return one row of cells per method: metrics, questions per second, index build time."""
    rows = []
    for name, result in evaluation.methods.items():
        cells = [name] + [f"{result.metrics[m]:.4f}" for m in SHOWN]
        cells += [f"{result.qps:.1f}", _seconds(evaluation.target.build_seconds.get(name))]
        rows.append(cells)
    return rows


def _grid(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def _summary(evaluation: Evaluation) -> str:
    ds = evaluation.dataset
    parts = [
        f"{ds.name}: {len(ds.answerable)} answerable questions"
        + (f", {len(ds.unanswerable)} unanswerable" if ds.unanswerable else "")
        + f", {evaluation.target.paragraphs} paragraphs"
    ]
    for judge in evaluation.judges:
        rates = flag_rates(evaluation, judge)
        if not rates:
            continue
        line = (
            f"not confident ({judge.method}, threshold {judge.threshold:.3f}): "
            f"{rates['answerable_flagged']:.1%} of answerable"
        )
        if "unanswerable" in rates:
            line += f", {rates['unanswerable_flagged']:.1%} of unanswerable"
        if rates["refused"]:
            line += f" ({rates['refused']} never reach the index: no words, small talk, a lone §N)"
        kinds = flagged_by_kind(evaluation, judge)
        if kinds:
            line += "; unanswerable by kind: " + ", ".join(
                f"{kind} {flagged}/{total}" for kind, (flagged, total) in kinds.items()
            )
        parts.append(line)
    parts += evaluation.target.notes
    return "\n".join(parts)


def _group_rows(evaluation: Evaluation) -> list[list[str]]:
    rows = []
    for label, ids in groups(evaluation.dataset).items():
        for name, result in evaluation.methods.items():
            m = group_metrics(result, ids)
            rows.append([label, str(len(ids)), name] + [f"{m[k]:.4f}" for k in SHOWN])
    return rows


def render_table(evaluation: Evaluation) -> str:
    """Return the side-by-side table for a terminal, with subgroups when the set has them."""
    out = [_summary(evaluation), "", _grid(HEADERS, table_rows(evaluation))]
    group_rows = _group_rows(evaluation)
    if group_rows:
        out += ["", _grid(("group", "n", "method", *HEADERS[1:7]), group_rows)]
    return "\n".join(out) + "\n"


def record(evaluation: Evaluation, failures_limit: int = 0) -> dict[str, object]:
    """Return the JSON shape of an evaluation (documented in docs/quality.md), with up to
    failures_limit failures per method under "failures" when it is not 0."""
    methods: dict[str, object] = {}
    for name, result in evaluation.methods.items():
        entry: dict[str, object] = {m: round(result.metrics[m], 6) for m in MEASURES}
        entry["qps"] = round(result.qps, 2)
        build = evaluation.target.build_seconds.get(name)
        entry["build_s"] = None if build is None else round(build, 2)
        entry["groups"] = {
            label: {m: round(v, 6) for m, v in group_metrics(result, ids).items()}
            for label, ids in groups(evaluation.dataset).items()
        }
        if result.threshold is not None:
            entry["confidence"] = _judgement(evaluation, result)
        methods[name] = entry
    ds = evaluation.dataset
    served = evaluation.judges[0] if evaluation.judges else None
    shape: dict[str, object] = {
        "dataset": str(ds.path),
        "questions": len(ds.answerable),
        "unanswerable": len(ds.unanswerable),
        "paragraphs": evaluation.target.paragraphs,
        "methods": methods,
        # The served method's judgement (the first that judges), as before.
        "confidence": _judgement(evaluation, served) if served else {},
    }
    if failures_limit:
        shape["failures"] = failure_records(evaluation, failures_limit)
    return shape


def _judgement(evaluation: Evaluation, result: MethodResult) -> dict[str, object]:
    """Return a method's "not found" figures for JSON: threshold, rates, and rates by kind."""
    kinds = flagged_by_kind(evaluation, result)
    return {
        "threshold": result.threshold,
        **flag_rates(evaluation, result),
        "unanswerable_by_kind": {k: {"flagged": f, "questions": n} for k, (f, n) in kinds.items()},
    }


@dataclass(frozen=True)
class Miss:
    """A question whose gold paragraph a method did not rank first."""

    query: Query
    gold: list[str]  # the question's gold paragraphs
    rank: int | None  # the first gold paragraph's rank; None: not in the ranking
    ranking: list[tuple[str, float]]  # what the method ranked, best first


def misses(evaluation: Evaluation, method: str) -> list[Miss]:
    """Return the questions the method did not rank the gold paragraph first for, worst first."""
    ds = evaluation.dataset
    result = evaluation.methods[method]
    found = []
    for q in ds.answerable:
        ranking = result.rankings.get(q.id, [])
        rank = gold_rank(ranking, ds.qrels[q.id])
        if rank != 1:
            found.append(Miss(q, list(ds.qrels[q.id]), rank, ranking))
    return sorted(found, key=lambda m: (-(m.rank or 10**9), m.query.id))


def failures(
    evaluation: Evaluation, method: str, limit: int | None = None, found: list[Miss] | None = None
) -> list[str]:
    """Return one block per question the method did not rank first, worst first (of `found`,
    its misses, when the caller has them already).

    Each says the gold paragraph's rank and the passage that was put above it.
    """
    blocks = []
    for miss in (misses(evaluation, method) if found is None else found)[:limit]:
        if miss.rank:
            where = f"rank {miss.rank}"
        else:
            where = f"not in the top {len(miss.ranking)}" if miss.ranking else "nothing was ranked"
        q = miss.query
        lines = [f"[{method}] {q.id}: {q.text}", f"  gold {', '.join(miss.gold)}: {where}"]
        if miss.ranking:
            top_id = miss.ranking[0][0]
            lines.append(f"  ranked first: {top_id}: {_snippet(evaluation.target, top_id)}")
        blocks.append("\n".join(lines))
    return blocks


def failure_records(evaluation: Evaluation, limit: int) -> dict[str, list[dict[str, object]]]:
    """Return the JSON shape of --failures: per method, its misses worst first."""
    return {
        method: [
            {
                "id": miss.query.id,
                "question": miss.query.text,
                "gold": miss.gold,
                "gold_rank": miss.rank,
                "first": miss.ranking[0][0] if miss.ranking else None,
            }
            for miss in misses(evaluation, method)[:limit]
        ]
        for method in evaluation.methods
    }


def _snippet(target: Target, pid: str, width: int = 90) -> str:
    title, text = target.dataset.corpus.get(pid, ("", ""))
    if not text:
        text = _paragraph_text(target, pid)
    flat = " ".join(f"{title} {text}".split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _paragraph_text(target: Target, pid: str) -> str:
    doc, _, number = pid.rpartition("#")
    index = target.searcher.index
    row = index.row_of(doc, int(number)) if number.isdigit() else None
    return index.paragraphs[row].text if row is not None else ""


def render_failures(evaluation: Evaluation, limit: int | None) -> str:
    """Return the failures of every method, each list worst first."""
    out = []
    for method in evaluation.methods:
        found = misses(evaluation, method)
        out.append(f"{method}: {len(found)} question(s) without the gold paragraph first")
        out += failures(evaluation, method, limit, found)
        out.append("")
    return "\n".join(out)


def render_markdown(evaluations: Sequence[Evaluation], command: str, failures_limit: int) -> str:
    """Return a Markdown report: the command, a table per set, and the worst failures."""
    out = ["# Retrieval quality", "", f"Command: `{command}`", ""]
    for ev in evaluations:
        out += [f"## {ev.dataset.name}", "", _summary(ev).replace("\n", "  \n"), ""]
        out.append("| " + " | ".join(HEADERS) + " |")
        out.append("|" + "---|" * len(HEADERS))
        out += ["| " + " | ".join(r) + " |" for r in table_rows(ev)]
        group_rows = _group_rows(ev)
        if group_rows:
            heads = ("group", "n", "method", *HEADERS[1:7])
            out += ["", "| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
            out += ["| " + " | ".join(r) + " |" for r in group_rows]
        if failures_limit:
            out += ["", "### Failures (worst first)", "", "```"]
            out.append(render_failures(ev, failures_limit).rstrip())
            out.append("```")
        out.append("")
    return "\n".join(out)


def check_output_file(flag: str, path: Path) -> None:
    """Refuse a --report or --plot file that could not be written, before evaluating (minutes).

    A file is made in the folder and removed again: only that shows a folder of /proc or /sys,
    which takes no new files even from root, whom permissions let through.
    """
    if path.is_dir():
        raise UsageError(f"{flag} {path} is a folder; give a file name in it")
    try:
        mode: int | None = path.stat().st_mode
    except OSError:
        mode = None  # not there yet (the usual case), or the folder says why below
    if mode is not None and stat.S_ISFIFO(mode):
        return  # a pipe (`--report >(less)`): what reads it takes the report
    if mode is not None and stat.S_ISCHR(mode) and os.access(path, os.W_OK):
        return  # /dev/stdout, a terminal (one that takes nothing, /dev/full, fails when written)
    if mode is not None and not stat.S_ISREG(mode):
        raise UsageError(f"{flag} {path} is a device, not a file; give a file name")
    folder = path.parent
    if not folder.is_dir():
        what = f"{folder} is not a folder" if folder.exists() else f"there is no folder {folder}"
        raise UsageError(f"{flag} {path}: {what}; give a file in a folder that exists")
    if mode is not None and not os.access(path, os.W_OK):
        raise UsageError(f"{flag} {path} cannot be written (permission denied); give another file")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".qabot-", suffix=".probe"):
            pass
    except OSError as exc:
        raise UsageError(
            f"{flag} {path} cannot be written: no file can be made in {folder} "
            f"({exc.strerror or exc}); give a file in another folder"
        ) from exc


def check_plot_format(path: Path) -> None:
    """Refuse a --plot file whose suffix matplotlib cannot draw (.txt), before evaluating."""
    _pyplot()  # matplotlib missing: the install hint, before evaluating too
    from matplotlib.backend_bases import FigureCanvasBase

    formats = sorted(FigureCanvasBase.get_supported_filetypes())
    suffix = path.suffix.lower().removeprefix(".")
    if suffix not in formats:
        what = f"cannot draw .{suffix} files" if suffix else "needs a suffix to pick the format"
        raise UsageError(
            f"--plot {path}: matplotlib {what}; name a .png, .svg or .pdf file "
            f"(or one of: {', '.join(f for f in formats if f not in ('png', 'svg', 'pdf'))})"
        )


def _pyplot() -> ModuleType:
    """Return matplotlib.pyplot drawing into files (Agg), or say how to install it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise QabotError("--plot needs matplotlib (pip install 'qabot[eval]')") from exc
    return plt


def plot_recall(evaluations: Sequence[Evaluation], path: Path) -> None:
    """Draw Recall@k per method (one panel per question set) into an image file."""
    plt = _pyplot()
    count = len(evaluations)
    fig, axes = plt.subplots(1, count, figsize=(5.5 * count, 4), squeeze=False)
    for ax, ev in zip(axes[0], evaluations, strict=True):
        for method in ev.methods:
            curve = recall_curve(ev, method)
            ax.plot([k for k, _ in curve], [r for _, r in curve], marker="o", ms=3, label=method)
        ax.set_title(f"{ev.dataset.name} ({len(ev.dataset.answerable)} questions)")
        ax.set_xlabel("k (passages read)")
        ax.set_ylabel("Recall@k")
        ax.set_xscale("log")
        ax.set_xticks([1, 2, 3, 5, 10, 20], labels=["1", "2", "3", "5", "10", "20"])
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower right")
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=120)
    except OSError as exc:
        raise QabotError(f"cannot write the plot to {path}: {exc.strerror or exc}") from exc
    finally:
        plt.close(fig)
