"""The one-shot commands: `qabot ask`, `index`, `show` and `eval`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from bot.cli.output import wants_color
from bot.cli.wrap import wrap_for
from bot.options import engine_from_args
from bot.render import render_context, render_json, render_text
from retrieval.errors import QabotError, UsageError
from retrieval.ingest import Paragraph
from retrieval.search import METHODS, Searcher, check_method
from retrieval.search.refs import split_doc_numbers


def cmd_ask(args: argparse.Namespace, out: TextIO) -> int:
    question = usable_question(args.question)
    engine = engine_from_args(args)
    answer = engine.searcher.search(question, k=args.k, method=args.method)
    several = len(engine.searcher.index.documents) > 1
    if args.json:
        out.write(render_json(answer) + "\n")
    else:
        text = render_text(answer, color=wants_color(out), several_docs=several)
        out.write(wrap_for(out, text.rstrip("\n") + "\n"))  # "Nothing ... matches" has no \n
    if 0 < len(answer.passages) < args.k:
        print(f"note: {fewer_passages(len(answer.passages), args.method)}", file=sys.stderr)
    return 0


def usable_question(text: str) -> str:
    """Return the question stripped; an empty or overlong one is a usage error (exit 2)."""
    from retrieval.search import check_question

    try:
        return check_question(text)
    except UsageError:
        raise
    except QabotError as exc:
        raise UsageError(exc.message, remedy=exc.remedy, data=exc.data) from exc


def fewer_passages(count: int, method: str) -> str:
    """Say why a question got fewer passages than -k asked for."""
    if method == "bm25":
        return (
            f"only {count} paragraph(s) share a word with the question, and bm25 ranks only "
            "those; --method hybrid ranks every paragraph"
        )
    return f"only {count} paragraph(s) could be ranked for this question"


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
    out.write(wrap_for(out, render_paragraphs(searcher, args.where, radius=args.context)))
    return 0


def render_paragraphs(searcher: Searcher, words: Sequence[str], radius: int) -> str:
    """Return each paragraph `[DOC] N [[DOC] N ...]` names with its neighbours.

    Windows of one document that overlap or touch are shown as one run, each paragraph once
    (`show 16 17`: §15 to §18). Every reference is checked before any is shown, so a wrong one
    shows only its error.
    """
    several = len(searcher.index.documents) > 1
    windows = []
    for ref in paragraph_refs(words, searcher.index.documents):
        doc, number = searcher.paragraph_ref(ref)
        windows.append((searcher.neighbours(doc, number, radius=radius), number))
    return "\n".join(
        # One paragraph at a time: render_context marks one focus, and a run may hold several.
        render_context([p], p.number if p.number in focus else -1, several)
        for run, focus in _runs(windows)
        for p in run
    )


def _runs(windows: Sequence[tuple[list[Paragraph], int]]) -> list[tuple[list[Paragraph], set[int]]]:
    """Merge the windows of one document that overlap or touch into runs of paragraphs, each
    with the numbers asked for in it; a run stands where its first window was asked for."""
    runs: list[tuple[dict[int, Paragraph], set[int]]] = []
    for paragraphs, number in windows:
        window = {p.number: p for p in paragraphs}
        doc = paragraphs[0].doc
        joined = [
            i
            for i, (run, _) in enumerate(runs)
            if next(iter(run.values())).doc == doc
            and min(window) <= max(run) + 1
            and min(run) <= max(window) + 1
        ]
        if not joined:
            runs.append((window, {number}))
            continue
        # A window may bridge two runs (`show 10 14 12 --context 1`): they become one.
        first, focus = runs[joined[0]]
        first.update(window)
        focus.add(number)
        for i in reversed(joined[1:]):
            run, more = runs.pop(i)
            first.update(run)
            focus |= more
    return [([run[n] for n in sorted(run)], focus) for run, focus in runs]


def paragraph_refs(words: Sequence[str], documents: Sequence[str] = ()) -> list[list[str]]:
    """Split `[DOC] N [[DOC] N ...]` into one `N` or `DOC N` per paragraph.

    A number may be written as answers cite it (§16), and `DOC#N` as `DOC N`. A number without
    a document stays in the document named last: `notes 3 5` is notes 3 and notes 5. Words
    that together make the name of one of `documents` are one name (`read me 3`, typed in
    chat without quotes around `read me`).
    """
    refs: list[list[str]] = []
    doc: str | None = None
    pending: str | None = None
    for word in split_doc_numbers(words):
        number = word.lstrip("§#¶").strip()  # as answers cite it, or as people write it
        if number.isdigit():
            doc, pending = pending or doc, None
            refs.append([doc, number] if doc else [number])
        elif pending is not None and _names_part(f"{pending} {word}", documents):
            pending = f"{pending} {word}"
        elif pending is not None:
            refs.append([pending, word])  # `DOC x`: the searcher says x is not a number
            pending = None
        elif word.strip("§#¶"):
            pending = word
    if pending is not None or not refs:
        refs.append([pending] if pending else [])
    return refs


def _names_part(words: str, documents: Sequence[str]) -> bool:
    """Tell whether words are a document's name, or its first words."""
    return any(doc == words or doc.startswith(words + " ") for doc in documents)


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
        check_method(method, "--methods")
    if args.depth < 10 or (args.limit is not None and args.limit < 1):
        raise UsageError("--depth must be at least 10 and --limit at least 1")
    for flag, path in (("--report", args.report), ("--plot", args.plot)):
        if path:
            eval_report.check_output_file(flag, Path(path))
    if args.plot:
        eval_report.check_plot_format(Path(args.plot))
    evaluate.require_ir_measures()
    engine = engine_from_args(args)
    progress = sys.stderr.isatty()
    evaluations = []
    sets: list[tuple[str, str | None]] = [("dataset", d) for d in args.dataset or []]
    sets += [("feedback", f) for f in args.feedback or []]
    for kind, where in sets or [("gold", None)]:
        if kind == "feedback":
            target = targets.open_feedback(engine, Path(str(where)))
        elif kind == "dataset" and targets.over_served_index(Path(str(where))):
            target = targets.open_gold(engine, Path(str(where)))
        elif kind == "dataset":
            target = targets.open_beir(targets.load_dataset(Path(str(where))), engine)
        else:
            target = targets.open_gold(engine)
        target.dataset = target.dataset.limited(args.limit)
        evaluation = evaluate.run(target, methods, args.depth, progress)
        evaluations.append(evaluation)
        if args.json:  # one object per set, its failures inside it
            shape = eval_report.record(evaluation, args.failures)
            out.write(json.dumps(shape, ensure_ascii=False) + "\n")
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
