"""The one-shot commands: `qabot ask`, `index`, `show` and `eval`."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from bot.options import engine_from_args
from bot.render import render_context, render_json, render_text
from retrieval.errors import QabotError, UsageError
from retrieval.search import METHODS, check_method


def cmd_ask(args: argparse.Namespace, out: TextIO) -> int:
    engine = engine_from_args(args)
    answer = engine.searcher.search(args.question, k=args.k, method=args.method)
    several = len(engine.searcher.index.documents) > 1
    if args.json:
        out.write(render_json(answer) + "\n")
    else:
        out.write(render_text(answer, color=out.isatty(), several_docs=several))
    return 0


def cmd_index(args: argparse.Namespace, out: TextIO) -> int:
    engine = engine_from_args(args)
    index = engine.reload(rebuild=args.rebuild, index_type=args.index_type).index
    m = index.manifest
    out.write(
        f"Index ready: {m.count} paragraphs from {len(m.documents)} document(s), model {m.model}, "
        f"{m.index_type} index, built {m.created}\n  {index.directory}\n"
    )
    return 0


def cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    searcher = engine_from_args(args).searcher
    doc, number = searcher.paragraph_ref(args.where)
    paragraphs = searcher.neighbours(doc, number, radius=max(0, args.context))
    out.write(render_context(paragraphs, number, len(searcher.index.documents) > 1))
    return 0


def cmd_eval(args: argparse.Namespace, out: TextIO) -> int:
    import json
    import shlex
    from pathlib import Path

    from bot.cli import eval_report
    from retrieval.eval import evaluate, targets

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not methods:
        raise UsageError(f"--methods is empty; choose from {', '.join(METHODS)}")
    for method in methods:
        check_method(method)
    if args.depth < 10 or (args.limit is not None and args.limit < 1):
        raise UsageError("--depth must be at least 10 and --limit at least 1")
    evaluate.require_ir_measures()
    engine = engine_from_args(args)
    progress = sys.stderr.isatty()
    evaluations = []
    sets: list[tuple[str, str | None]] = [("dataset", d) for d in args.dataset or []]
    sets += [("feedback", f) for f in args.feedback or []]
    for kind, where in sets or [("gold", None)]:
        if kind == "feedback":
            target = targets.open_feedback(engine, Path(str(where)))
        elif kind == "dataset":
            target = targets.open_beir(targets.load_dataset(Path(str(where))), engine)
        else:
            target = targets.open_gold(engine)
        target.dataset = target.dataset.limited(args.limit)
        evaluation = evaluate.run(target, methods, args.depth, progress)
        evaluations.append(evaluation)
        if args.json:
            out.write(json.dumps(eval_report.record(evaluation), ensure_ascii=False) + "\n")
        else:
            out.write(eval_report.render_table(evaluation) + "\n")
        if args.failures:
            out.write(eval_report.render_failures(evaluation, args.failures) + "\n")
        out.flush()
    if args.report:
        command = "qabot " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "qabot eval"
        text = eval_report.render_markdown(evaluations, command, args.failures or 10)
        try:
            Path(args.report).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise QabotError(f"cannot write {args.report}: {exc.strerror or exc}") from exc
    if args.plot:
        eval_report.plot_recall(evaluations, Path(args.plot))
    return 0
