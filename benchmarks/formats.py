"""Compare the candidate PDF, web page and Word libraries on the same files (docs/formats.md).

Run from the repository root (the candidates that qabot does not depend on must be installed
for their rows: pip install pdfplumber pypdf trafilatura):

    .venv/bin/python benchmarks/formats.py [--runs 5] [--index] [--json FILE]

PDF: on tests/data/formats/newspaper.pdf (the bundled page set in five columns over two A3
pages), how many of the Markdown page's 50 paragraphs each library gives whole and in
reading order, the share of the page's CJK characters it gives back, running heads and page
numbers left in, and pages a second (that file, the A5 report, and a 100-page PDF made of
the newspaper's pages). Web pages: on the three test pages, the article's sentences kept,
boilerplate strings leaked, headings and table rows kept, milliseconds a page. ``--index``
also times `qabot index` (default model) on the 100-page PDF against the same text as
Markdown files.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from retrieval.ingest.cutter import parse_text  # noqa: E402

FORMATS = REPO / "tests" / "data" / "formats"
SEED = REPO / "corpus" / "shanxi-taiyuan-news-2023-08-30.md"
NEWSPAPER, REPORT = FORMATS / "newspaper.pdf", FORMATS / "report.pdf"
# Running heads and folios of the two test PDFs ("第1版" alone is also in the articles' marks).
RUNNING = ["山西日报", "星期三 第", "— 1 —", "— 2 —", "共 3 页", "工作简报 2023年第8期"]
_SPACE = re.compile(r"\s+")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def squash(text: str) -> str:
    return _SPACE.sub("", text)


# ------------------------------------------------------------------------------ PDF ----


def text_pypdfium2(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    return [document[i].get_textpage().get_text_range() for i in range(len(document))]


def text_pdfplumber(path: Path) -> list[str]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def text_pdfminer(path: Path) -> list[str]:
    from pdfminer.high_level import extract_text

    return extract_text(str(path)).split("\f")


def text_pypdf(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(path).pages]


def text_qabot(path: Path) -> list[str]:
    from retrieval.ingest.pdf import pdf_text

    return pdf_text(path.read_bytes(), path.name).split("\f")


PDF_LIBRARIES: dict[str, Callable[[Path], list[str]]] = {
    "qabot reader (pypdfium2 + layout)": text_qabot,
    "pypdfium2 get_text_range": text_pypdfium2,
    "pdfplumber extract_text": text_pdfplumber,
    "pdfminer.six extract_text": text_pdfminer,
    "pypdf extract_text": text_pypdf,
}


def in_order(paragraphs: list[str], text: str) -> tuple[int, int]:
    """Count paragraphs found whole in text, and those found whole and in reading order."""
    flat = squash(text)
    whole = sum(1 for p in paragraphs if squash(p) in flat)
    position, ordered = 0, 0
    for p in paragraphs:
        found = flat.find(squash(p), position)
        if found >= 0:
            ordered += 1
            position = found + len(squash(p))
    return whole, ordered


def cjk_recall(expected: str, got: str) -> float:
    want, have = Counter(_CJK.findall(expected)), Counter(_CJK.findall(got))
    return sum(min(n, have[ch]) for ch, n in want.items()) / max(1, sum(want.values()))


def pages_per_second(read: Callable[[Path], list[str]], path: Path, runs: int) -> float:
    times = []
    pages = 0
    for _ in range(runs):
        started = time.perf_counter()
        pages = len(read(path))
        times.append(time.perf_counter() - started)
    return pages / statistics.median(times)


def hundred_pages(folder: Path) -> Path:
    """Make a 100-page PDF of the newspaper's two pages, 50 times over (pypdfium2 only)."""
    import pypdfium2 as pdfium

    source = pdfium.PdfDocument(NEWSPAPER)
    target = pdfium.PdfDocument.new()
    for _ in range(50):
        target.import_pages(source)
    path = folder / "hundred.pdf"
    target.save(path)
    return path


def reportlab_newspaper(folder: Path) -> Path | None:
    """Set the same newspaper with reportlab and a TrueType CJK font: a second producer."""
    sys.path.insert(0, str(FORMATS))
    try:
        from make_fixtures import make_newspaper  # type: ignore[import-not-found]

        path = folder / "newspaper-reportlab.pdf"
        make_newspaper(path, producer="reportlab")
        return path
    except (ImportError, OSError) as exc:
        print(f"reportlab newspaper not made ({exc}); its rows are skipped", file=sys.stderr)
        return None


def order_row(read: Callable[[Path], list[str]], path: Path, markdown: list[str]) -> dict:
    """Score one library on one newspaper PDF: paragraphs whole and in order, CJK recall."""
    pages = read(path)
    text = "\n".join(pages)
    whole, ordered = in_order(markdown, text)
    row: dict[str, object] = {"whole": whole, "in_order": ordered}
    row["cjk_recall"] = round(cjk_recall(SEED.read_text(encoding="utf-8"), text), 4)
    if read is text_qabot:  # paragraphs as the cutter makes them, equal to the Markdown's
        got = [squash(p.text) for p in parse_text("\f".join(pages), "seed", paged=True)]
        position = same = 0
        for p in markdown:
            if squash(p) in got[position:]:
                position = got.index(squash(p), position) + 1
                same += 1
        row["paragraphs_equal"] = same
    return row


def compare_pdf(runs: int, folder: Path) -> list[dict[str, object]]:
    seed_text = SEED.read_text(encoding="utf-8")
    markdown = [p.text.replace("\n", "") for p in parse_text(seed_text, "seed")]
    big = hundred_pages(folder)
    second = reportlab_newspaper(folder)
    rows = []
    for name, read in PDF_LIBRARIES.items():
        try:
            read(REPORT)  # warm up: imports, the library's first-use costs
        except ImportError:
            print(f"{name}: not installed, skipped", file=sys.stderr)
            continue
        row: dict[str, object] = {"library": name, "of": len(markdown)}
        for label, path in (("fpdf2", NEWSPAPER), ("reportlab", second)):
            if path is not None:
                row.update(
                    {f"{k} ({label})": v for k, v in order_row(read, path, markdown).items()}
                )
        heads = "\n".join(read(NEWSPAPER) + read(REPORT))
        row["running_heads_left"] = sum(heads.count(r) for r in RUNNING)
        row["A3_newspaper_pages_per_s"] = round(pages_per_second(read, NEWSPAPER, runs), 1)
        row["A5_report_pages_per_s"] = round(pages_per_second(read, REPORT, runs), 1)
        row["100_A3_pages_s"] = round(100 / pages_per_second(read, big, 1), 2)
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------- HTML ----

HTML_PAGES = ("library-gbk.html", "library-big5.htm", "water-utf8.html")
HTML_BOILERPLATE = ["广告", "廣告", "分享到", "网友", "網友", "版权所有", "版權所有", "相关阅读"]
HTML_BOILERPLATE += ["相關閱讀", "荷花节", "荷花節", "首页", "首頁", "ICP"]


def html_truth(name: str) -> tuple[list[str], list[str], list[str]]:
    """Return the article's sentences, headings and table cells, from the page's own markup."""
    from lxml import html as lxml_html

    from retrieval.ingest.html import decode_html

    root = lxml_html.document_fromstring(decode_html((FORMATS / name).read_bytes(), name))
    (article,) = root.find_class("article")
    for share in article.find_class("share"):
        share.drop_tree()
    sentences = [
        s for p in article.iter("p", "li") for s in re.split(r"(?<=[。!?])", p.text_content()) if s
    ]
    headings = [h.text_content() for h in article.iter("h1", "h2", "h3")]
    cells = [c.text_content() for c in article.iter("td")]
    return sentences, headings, cells


def html_qabot(data: bytes, name: str) -> str:
    from retrieval.ingest.html import decode_html, html_source

    return html_source(decode_html(data, name), name).text


def html_readability(data: bytes, name: str) -> str:
    from lxml import html as lxml_html
    from readability import Document

    from retrieval.ingest.html import decode_html

    summary = Document(decode_html(data, name)).summary(html_partial=True)
    return lxml_html.fromstring(summary).text_content()


def html_trafilatura(data: bytes, name: str) -> str:
    import trafilatura

    return (
        trafilatura.extract(
            data, output_format="markdown", include_tables=True, include_comments=False
        )
        or ""
    )


HTML_LIBRARIES: dict[str, Callable[[bytes, str], str]] = {
    "qabot reader (readability-lxml + cleanup)": html_qabot,
    "readability-lxml alone": html_readability,
    "trafilatura": html_trafilatura,
}


def compare_html(runs: int) -> list[dict[str, object]]:
    rows = []
    for name, extract in HTML_LIBRARIES.items():
        try:
            extract(b"<p>x</p>", "warm-up.html")
        except ImportError:
            print(f"{name}: not installed, skipped", file=sys.stderr)
            continue
        kept = total = leaked = heads = heads_of = cells = cells_of = 0
        times = []
        for page in HTML_PAGES:
            data = (FORMATS / page).read_bytes()
            sentences, headings, table = html_truth(page)
            for _ in range(runs):
                started = time.perf_counter()
                text = extract(data, page)
                times.append(time.perf_counter() - started)
            flat = squash(text)
            kept += sum(1 for s in sentences if squash(s) in flat)
            total += len(sentences)
            leaked += sum(1 for b in HTML_BOILERPLATE if b in text)
            heads += sum(1 for h in headings if squash(h) in flat)
            heads_of += len(headings)
            cells += sum(1 for c in table if squash(c) in flat)
            cells_of += len(table)
        rows.append(
            {
                "library": name,
                "sentences_kept": f"{kept}/{total}",
                "boilerplate_leaked": leaked,
                "headings_kept": f"{heads}/{heads_of}",
                "table_cells_kept": f"{cells}/{cells_of}",
                "ms_per_page": round(1000 * statistics.median(times), 1),
            }
        )
    return rows


# ---------------------------------------------------------------------------- index ----


def time_index(corpus: Path, home: Path) -> float:
    env = {**os.environ, "QABOT_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "index", "--corpus", str(corpus)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"qabot index failed on {corpus}: {done.stderr.strip()}")
    return time.perf_counter() - started


def compare_index(folder: Path) -> dict[str, float]:
    """Time `qabot index` on a 100-page PDF and on the same text as 50 Markdown files."""
    from retrieval.ingest.pdf import pdf_text

    home = folder / "home"
    warm = folder / "warm"
    warm.mkdir()
    shutil.copy(SEED, warm / "seed.md")
    time_index(warm, home)  # prepares the default model once, outside the timings
    pdf_dir, md_dir = folder / "pdf", folder / "md"
    pdf_dir.mkdir()
    md_dir.mkdir()
    shutil.copy(hundred_pages(folder), pdf_dir / "hundred.pdf")
    pages = pdf_text(NEWSPAPER.read_bytes(), NEWSPAPER.name).replace("\f", "\n\n")
    for i in range(50):  # the same paragraphs: 50 copies of what the PDF's two pages hold
        (md_dir / f"copy{i:02d}.md").write_text(pages, encoding="utf-8")
    pdf_s = time_index(pdf_dir, home)
    md_s = time_index(md_dir, home)
    return {"pdf_100_pages_s": round(pdf_s, 1), "markdown_same_text_s": round(md_s, 1)}


def table(rows: list[dict[str, object]]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r.get(k, "")) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--index", action="store_true", help="also time qabot index (slow)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results: dict[str, object] = {
            "pdf": compare_pdf(args.runs, Path(tmp)),
            "html": compare_html(args.runs),
        }
        if args.index:
            results["index"] = compare_index(Path(tmp))
    print(table(results["pdf"]))  # type: ignore[arg-type]
    print()
    print(table(results["html"]))  # type: ignore[arg-type]
    if "index" in results:
        print()
        print(results["index"])
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
