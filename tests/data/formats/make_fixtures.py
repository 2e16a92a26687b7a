"""Regenerate the format test files in this folder (see README.md here for sources and licences).

Run from the repository root with the PDF and Word writers installed (they are not qabot
dependencies) and Debian's Noto CJK fonts (``apt-get install fonts-noto-cjk``):

    .venv/bin/pip install fpdf2 python-docx pillow
    .venv/bin/python tests/data/formats/make_fixtures.py

The PDFs embed subsets of the fonts, so the tests need no font installed.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SEED = REPO / "corpus" / "shanxi-taiyuan-news-2023-08-30.md"
FONTS = Path("/usr/share/fonts/opentype/noto")
SERIF, SANS_BOLD = FONTS / "NotoSerifCJK-Regular.ttc", FONTS / "NotoSansCJK-Bold.ttc"
SC = 2  # the Simplified Chinese face in Debian's Noto CJK collections
WHEN = dt.datetime(2023, 8, 30, 8, 0, tzinfo=dt.timezone.utc)

# Characters a line may not start with (Chinese line-breaking rules): they hang at the end.
NO_LINE_START = set("，。、；：？！,.;:?!)）》」』”’%")


def seed_blocks() -> list[str]:
    """Return the bundled page's blocks (headings and paragraphs), as its Markdown has them."""
    text = SEED.read_text(encoding="utf-8")
    return [b.strip("\n") for b in re.split(r"\n\s*\n", text) if b.strip()]


def seed_articles() -> list[list[str]]:
    """Split the bundled page's blocks into articles: a run of blocks from one ## or # heading.

    The first article's ``##`` subsections stay in it (they follow a ``#`` heading).
    """
    articles: list[list[str]] = [[]]
    in_first = False
    for block in seed_blocks():
        starts = block.startswith("## ") and not (in_first and block.startswith("## ◆"))
        if block.startswith("# "):
            in_first = True
        elif starts:
            in_first = False
        if starts or (block == "八月二十九日晚" or block.startswith("八月二十九日晚")):
            articles.append([])
        articles[-1].append(block)
    return [a for a in articles if a]


# --------------------------------------------------------------------------------- PDF ----


@dataclass
class Column:
    x: float
    top: float
    width: float
    bottom: float


class Flow:
    """Lay text into a run of columns, newspaper style: indented paragraphs, hanging punctuation."""

    def __init__(self, pdf: object, columns: list[Column], size: float = 10.0) -> None:
        self.pdf = pdf
        self.columns = columns
        self.size = size
        self.leading = size * 1.45
        self.index = 0
        self.y = columns[0].top

    @property
    def column(self) -> Column:
        return self.columns[self.index]

    def _room(self, height: float) -> None:
        if self.y + height > self.column.bottom:
            if self.index + 1 >= len(self.columns):
                raise RuntimeError("the text does not fit its columns; enlarge them")
            self.index += 1
            self.y = self.column.top

    def _lines(self, text: str, width: float, indent: float) -> Iterator[str]:
        """Break text into lines; one closing mark may hang past the edge, never two."""
        fits = lambda s, room: self.pdf.get_string_width(s) <= room  # type: ignore[attr-defined]  # noqa: E731
        line, room = "", width - indent
        for ch in text:
            if line and not fits(line + ch, room):
                if ch not in NO_LINE_START:
                    yield line
                    line, room = "", width
                elif not fits(line, room):  # a mark already hangs: carry a character over
                    yield line[:-1]
                    line, room = line[-1], width
            line += ch
        if line:
            yield line

    def paragraph(self, text: str, indent: bool = True, align: str = "L") -> None:
        pdf = self.pdf
        pdf.set_font("serif", size=self.size)  # type: ignore[attr-defined]
        first = True
        for line in self._lines(text, self.column.width, 2 * self.size if indent else 0):
            self._room(self.leading)
            x = self.column.x + (2 * self.size if indent and first else 0)
            if align == "R":
                x = self.column.x + self.column.width - pdf.get_string_width(line)  # type: ignore[attr-defined]
            self.y += self.leading
            pdf.text(x, self.y - self.leading * 0.28, line)  # type: ignore[attr-defined]
            first = False

    def heading(self, text: str, size: float, width_columns: int = 1) -> None:
        """Set a heading in bold sans, centred across `width_columns` columns, wrapped to fit."""
        pdf = self.pdf
        pdf.set_font("sans", size=size)  # type: ignore[attr-defined]
        span = self.columns[self.index + width_columns - 1]
        width = span.x + span.width - self.column.x
        lines = list(self._lines(text, width, 0))
        self._room(size * 1.4 * len(lines) + self.leading * 2.7)  # never alone at a foot
        if self.y > self.column.top:
            self.y += self.leading * 0.4
        for line in lines:
            x = self.column.x + max(0.0, (width - pdf.get_string_width(line)) / 2)  # type: ignore[attr-defined]
            self.y += size * 1.4
            pdf.text(x, self.y - size * 0.3, line)  # type: ignore[attr-defined]
        self.y += self.leading * 0.3


def new_pdf(page_format: str | tuple[float, float] = "A3", scramble: bool = False) -> object:
    """Return an fpdf2 document with the two CJK fonts.

    With `scramble`, each page's text is written to the file row by row across the whole
    page (by its baseline, then left to right), as some typesetting programs write it: the
    file's order is then not the reading order, and a reader must find the columns itself.
    """
    from fpdf import FPDF

    class RowOrderFPDF(FPDF):  # type: ignore[misc]
        pending: list[tuple[float, float, str, str, float]] = []

        def text(self, x: float, y: float, text: str = "") -> None:  # type: ignore[override]
            if not scramble:
                return super().text(x, y, text)
            self.pending.append((y, x, text, self.font_family, self.font_size_pt))

        def flush(self) -> None:
            for y, x, text, family, size in sorted(self.pending, key=lambda t: (round(t[0]), t[1])):
                self.set_font(family, size=size)
                super().text(x, y, text)
            self.pending = []

        def add_page(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
            if self.page:
                self.flush()
            super().add_page(*args, **kwargs)

        def output(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
            self.flush()
            return super().output(*args, **kwargs)

    pdf = RowOrderFPDF(unit="pt", format=page_format)
    pdf.set_creation_date(WHEN)
    pdf.set_auto_page_break(False)
    pdf.add_font("serif", fname=str(SERIF), collection_font_number=SC)
    pdf.add_font("sans", fname=str(SANS_BOLD), collection_font_number=SC)
    return pdf


class ReportlabPdf:
    """The few drawing calls `make_newspaper` makes, on a reportlab canvas (TrueType fonts).

    The benchmark (benchmarks/formats.py) sets the newspaper with it too, so that the PDF
    libraries are compared on a second producer and font format (WenQuanYi Zen Hei, from
    Debian's ``fonts-wqy-zenhei``; it has no bold face, so headings differ by size only).
    """

    def __init__(
        self, path: Path, font: Path = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
    ):
        from reportlab.lib.pagesizes import A3
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont
        from reportlab.pdfgen.canvas import Canvas

        for name in ("serif", "sans"):
            pdfmetrics.registerFont(TTFont(name, str(font), subfontIndex=0))
        self.w, self.h = A3
        self.canvas = Canvas(str(path), pagesize=A3, invariant=True)
        self.font, self.size = "serif", 10.0
        self.pending: list[tuple[float, float, str, str, float]] = []
        self.started = False

    def set_font(self, family: str, size: float) -> None:
        self.font, self.size = family, size

    def get_string_width(self, text: str) -> float:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        return float(stringWidth(text, self.font, self.size))

    def text(self, x: float, y: float, text: str) -> None:
        self.pending.append((y, x, text, self.font, self.size))

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self.canvas.line(x1, self.h - y1, x2, self.h - y2)

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        self.canvas.rect(x, self.h - y - h, w, h)

    def _flush(self) -> None:
        for y, x, text, font, size in sorted(self.pending, key=lambda t: (round(t[0]), t[1])):
            self.canvas.setFont(font, size)
            self.canvas.drawString(x, self.h - y, text)
        self.pending = []

    def add_page(self) -> None:
        if self.started:
            self._flush()
            self.canvas.showPage()
        self.started = True

    def output(self, _path: str) -> None:
        self._flush()
        self.canvas.save()


def running_head(pdf: object, page: int, left: str, right: str, folio: str) -> None:
    """Draw the head and foot every page repeats: paper name, date, page number."""
    w, h = pdf.w, pdf.h  # type: ignore[attr-defined]
    pdf.set_font("serif", size=9)  # type: ignore[attr-defined]
    pdf.text(40, 30, left)  # type: ignore[attr-defined]
    pdf.text(w - 40 - pdf.get_string_width(right), 30, right)  # type: ignore[attr-defined]
    pdf.line(40, 36, w - 40, 36)  # type: ignore[attr-defined]
    text = folio.format(page=page)
    pdf.text((w - pdf.get_string_width(text)) / 2, h - 22, text)  # type: ignore[attr-defined]


def set_article(flow: Flow, blocks: list[str], head_size: float, span: int) -> None:
    """Set one article of the bundled page: its heading across `span` columns, then its text."""
    for block in blocks:
        if block.startswith("#"):
            marks, title = block.split(" ", 1)
            level = len(marks)
            if level <= 2 and not title.startswith("◆"):
                flow.heading(title, head_size, span)
            else:
                flow.heading(title, flow.size * 1.15)
            continue
        lines = [line.rstrip() for line in block.split("\n")]
        signature = len(lines) <= 3 and re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", lines[-1])
        for line in lines:
            short = len(line) <= 12 and not re.search(r"[。，,]", line)
            if signature:
                flow.paragraph(line, indent=False, align="R")
            else:
                flow.paragraph(line, indent=not (short or line.endswith((":", "："))))


def columns(x0: float, x1: float, top: float, bottom: float, n: int, gutter: float = 14):
    width = (x1 - x0 - gutter * (n - 1)) / n
    return [Column(x0 + i * (width + gutter), top, width, bottom) for i in range(n)]


def box(pdf: object, x: float, top: float, x1: float, bottom: float) -> None:
    pdf.rect(x, top, x1 - x, bottom - top)  # type: ignore[attr-defined]


def place(
    pdf: object, blocks: list[str], area: tuple[float, float, float, float], n: int, head: float
) -> Flow:
    """Set an article in `n` columns of an area (x0, x1, top, bottom), its heading across them."""
    x0, x1, top, bottom = area
    if blocks[0].startswith("## "):
        flow = Flow(pdf, columns(x0, x1, top, bottom, 1))
        flow.heading(blocks[0][3:], head)
        top, blocks = flow.y + 10, blocks[1:]
    flow = Flow(pdf, columns(x0, x1, top, bottom, n))
    set_article(flow, blocks, head, 1)
    return flow


def make_newspaper(path: Path, changed: bool = False, producer: str = "fpdf2") -> None:
    """The bundled page as a two-page A3 newspaper: 5 columns, spanning heads, boxed notices.

    The text is written to the file in rows across the page, not in reading order.
    """
    articles = seed_articles()
    if changed:  # the second edition corrects one figure in one paragraph
        articles = [[b.replace("1666万元", "1668万元") for b in a] for a in articles]
    pdf = new_pdf("A3", scramble=True) if producer == "fpdf2" else ReportlabPdf(path)
    head = ("山西日报 · 综合新闻", "2023年8月30日 星期三 第{page}版")
    # Page 1: the lead article across five columns, the next one below it in three.
    pdf.add_page()  # type: ignore[attr-defined]
    running_head(pdf, 1, head[0], head[1].format(page=1), "— {page} —")
    lead = articles[0]
    flow = Flow(pdf, columns(40, 802, 50, 1150, 1))
    pdf.set_font("serif", size=13)  # type: ignore[attr-defined]
    for deck in lead[:2]:  # the kicker lines above the headline
        flow.y += 19
        pdf.text((pdf.w - pdf.get_string_width(deck)) / 2, flow.y, deck)  # type: ignore[attr-defined]
    flow.y += 6
    flow.heading(lead[2][2:], 26)
    flow = Flow(pdf, columns(40, 802, flow.y + 16, 905, 5))
    set_article(flow, lead[3:], 16, 1)
    pdf.line(40, 915, 802, 915)  # type: ignore[attr-defined]
    place(pdf, articles[1], (40, 500, 925, 1150), 3, 16)
    box(pdf, 512, 928, 802, 1150)  # a photograph's place: no text
    # Page 2: three articles flowing through five columns, the notices boxed below.
    pdf.add_page()  # type: ignore[attr-defined]
    running_head(pdf, 2, head[0], head[1].format(page=2), "— {page} —")
    flow = Flow(pdf, columns(40, 802, 50, 700, 5))
    for article in articles[2:5]:
        set_article(flow, article, 16, 1)
    box(pdf, 40, 712, 500, 1156)
    place(pdf, articles[5], (52, 488, 720, 1150), 3, 15)
    place(pdf, articles[6], (524, 802, 716, 800), 1, 15)
    for n, (top, bottom) in enumerate([(830, 990), (1004, 1156)]):
        box(pdf, 512, top - 8, 802, bottom)
        place(pdf, articles[7 + n], (524, 790, top, bottom), 1, 15)
    pdf.output(str(path))  # type: ignore[attr-defined]


REPORT = [
    "# 城市供水保障工作简报",
    "## 一、总体情况",
    "今年以来,市供水集团围绕保供水、保安全、优服务三项重点,完成老旧管网改造86公里,新建加压泵站4座,"
    "城区供水管网漏损率由去年的12.4%下降到9.8%,居民用水投诉量同比减少三成。",
    "全市日均供水量达到78万立方米,高峰日供水量首次突破90万立方米,没有出现大面积停水。",
    "## 二、停水检修安排",
    "计划性停水一律提前48小时通过短信、公众号和社区公告告知用户,停水时间原则上不超过24小时,"
    "超过12小时的停水必须安排送水车到小区定点供水。",
    "夏季用水高峰期间,非紧急检修一律安排在夜间进行,白天只处理突发爆管等紧急情况。",
    "## 三、下一步工作",
    "年底前完成剩余42公里老旧管网改造,实现二次供水泵房智能化改造全覆盖,"
    "推动供水服务热线与12345政务服务热线数据互通。",
    "同时开展水质在线监测点加密工程,新增监测点60个,出厂水和管网水水质综合合格率保持在99.9%以上。",
]


def make_report(path: Path, changed: bool = False) -> None:
    """A three-page A5 report in one column: running head, page numbers, headings in bold."""
    blocks = list(REPORT)
    if changed:
        blocks[2] = blocks[2].replace("86公里", "88公里")
    pdf = new_pdf("A5")
    flows: list[Flow] = []

    def page() -> Flow:
        pdf.add_page()  # type: ignore[attr-defined]
        n = len(flows) + 1
        running_head(pdf, n, "太原市供水集团", "工作简报 2023年第8期", "第 {page} 页  共 3 页")
        flows.append(Flow(pdf, columns(40, pdf.w - 40, 50, pdf.h - 40, 1), size=11))  # type: ignore[attr-defined]
        return flows[-1]

    flow = page()
    for i, block in enumerate(blocks):
        if i in (4, 7):  # each part starts a page, as a report's chapters do
            flow = page()
        if block.startswith("# "):
            flow.heading(block[2:], 18)
        elif block.startswith("## "):
            flow.heading(block[3:], 13)
        else:
            flow.paragraph(block)
    pdf.output(str(path))  # type: ignore[attr-defined]


ENGLISH = [
    ("h", "Water Supply Bulletin"),
    ("h2", "Summary"),
    (
        "p",
        "Since January the city water company has replaced 86 kilometres of old mains, "
        "built four pumping stations and cut the share of water lost from the network "
        "from 12.4 percent last year to 9.8 percent. Complaints about supply fell by a third.",
    ),
    (
        "p",
        "Daily supply averaged 780,000 cubic metres, and on the hottest day of the summer it "
        "passed 900,000 cubic metres for the first time without any large area losing water.",
    ),
    ("h2", "Planned interruptions"),
    (
        "p",
        "Customers are told of every planned interruption 48 hours ahead by text message, "
        "on the official account and on notices in each residential compound; an "
        "interruption should not last longer than 24 hours, and for any longer than 12 hours "
        "water tankers must be sent to fixed points in the affected compounds.",
    ),
    (
        "p",
        "During the summer peak, work that is not urgent is done at night; in the daytime "
        "crews only deal with emergencies such as burst pipes.",
    ),
]


def make_english(path: Path) -> None:
    """A two-column A4 page of justified English in Helvetica, with a footer: Latin text."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format="A4")
    pdf.set_creation_date(WHEN)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", size=9)
    pdf.text((pdf.w - pdf.get_string_width("Page 1 of 1")) / 2, pdf.h - 24, "Page 1 of 1")
    width, gutter = (pdf.w - 80 - 18) / 2, 18
    x, y = 40.0, 50.0
    for kind, text in ENGLISH:
        if kind == "h":
            pdf.set_font("Helvetica", style="B", size=18)
            pdf.set_xy(40, y)
            pdf.cell(pdf.w - 80, 24, text, align="C")
            y += 40
            continue
        if kind == "h2":
            pdf.set_font("Helvetica", style="B", size=12)
            pdf.set_xy(x, y)
            pdf.cell(width, 16, text)
            y += 20
            continue
        pdf.set_font("Helvetica", size=10)
        pdf.set_xy(x, y)
        if y > 200 and x == 40:  # the second column starts part-way down the page's text
            x, y = 40 + width + gutter, 90.0
            pdf.set_xy(x, y)
        pdf.multi_cell(width, 13, text, align="J")
        y = pdf.get_y() + 6
    pdf.output(str(path))


def make_scanned(path: Path) -> None:
    """A PDF whose page is only a picture of text, as a scanner makes it: no text layer."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("1", (600, 120), 1)
    font = ImageFont.truetype(str(SERIF), 28, index=SC)
    ImageDraw.Draw(image).text((20, 40), "停水通知:青年路8月31日停水", font=font, fill=0)
    pdf = new_pdf("A5")
    pdf.add_page()  # type: ignore[attr-defined]
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    pdf.image(buffer, x=40, y=60, w=340)  # type: ignore[attr-defined]
    pdf.output(str(path))  # type: ignore[attr-defined]


def make_encrypted(path: Path) -> None:
    """A PDF that opens only with a password."""
    pdf = new_pdf("A5")
    pdf.set_encryption(owner_password="owner-secret", user_password="user-secret")  # type: ignore[attr-defined]
    pdf.add_page()  # type: ignore[attr-defined]
    pdf.set_font("serif", size=12)  # type: ignore[attr-defined]
    pdf.text(40, 80, "内部文件,请勿外传。")  # type: ignore[attr-defined]
    pdf.output(str(path))  # type: ignore[attr-defined]


# -------------------------------------------------------------------------------- HTML ----

LIBRARY_ARTICLE = """
<h1>迎泽区图书馆暑期开放时间调整</h1>
<p class="info">来源:迎泽区文化和旅游局 发布时间:2023-08-28</p>
<p>为满足暑期读者阅读需求,迎泽区图书馆自8月1日起延长开放时间,周一至周日每天9时至21时开放,少儿阅览室同步延长至20时。</p>
<h2>新增自习座位</h2>
<p>馆内二层报告厅改造为临时自习室,新增自习座位120个,读者可通过“迎泽文旅”公众号提前一天预约,每人每天限约一次。</p>
<p>暑期每周六上午举办“小小讲解员”公益培训,面向8至12岁少年儿童,每期招收30人。</p>
<h2>各分馆开放时间</h2>
<table>
<tr><th>分馆</th><th>地址</th><th>开放时间</th></tr>
<tr><td>柳巷分馆</td><td>柳巷南路18号</td><td>每天10时至18时</td></tr>
<tr><td>桥东分馆</td><td>桥东街道社区服务中心三层</td><td>周二至周日9时至17时</td></tr>
</table>
<h2>借阅须知</h2>
<ul>
<li>读者凭身份证或社保卡免押金办理借阅证。</li>
<li>每证可借图书10册,借期30天,可续借一次。</li>
</ul>
"""

PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
{meta}
<title>{title}</title>
<style>.ad {{ float: right; }}</style>
<script>var share = {{ site: "demo" }};</script>
</head>
<body>
<div id="header"><a href="/">{site}</a>
<ul class="nav">
<li><a href="/news">{nav[0]}</a></li><li><a href="/notice">{nav[1]}</a></li>
<li><a href="/service">{nav[2]}</a></li><li><a href="/about">{nav[3]}</a></li>
</ul></div>
<div class="breadcrumb"><a href="/">{nav[4]}</a> &gt; <a href="/news">{nav[0]}</a></div>
<div class="main">
<div class="article">
{article}
<div class="share">{share}</div>
</div>
<div class="ad">{ad}</div>
<div class="related"><h3>{related}</h3><ul>
<li><a href="/news/1.html">{links[0]}</a></li><li><a href="/news/2.html">{links[1]}</a></li>
</ul></div>
<div id="comments"><h3>{comments}</h3><p>{comment}</p></div>
</div>
<div id="footer">{footer}</div>
</body>
</html>
"""

SIMPLIFIED = {
    "site": "迎泽文旅网",
    "nav": ("新闻动态", "通知公告", "便民服务", "关于我们", "首页"),
    "share": "分享到:微信 微博 QQ空间",
    "ad": "广告:暑期特惠 家电以旧换新补贴最高500元 立即抢购",
    "related": "相关阅读",
    "links": ("迎泽公园荷花节开幕", "社区文化活动中心招募志愿者"),
    "comments": "网友评论",
    "comment": "网友“晋阳人”:开放时间延长了,晚上下班也能去看书了,点赞!",
    "footer": "版权所有:迎泽区文化和旅游局 晋ICP备00000000号 联系电话:0351-0000000",
}


def make_html_pages() -> None:
    """The library notice as a GBK page (meta charset), a UTF-8 page and a Big5 page."""
    from opencc import OpenCC

    gbk = PAGE.format(
        lang="zh-CN",
        meta='<meta http-equiv="Content-Type" content="text/html; charset=gb2312">',
        title="迎泽区图书馆暑期开放时间调整_迎泽文旅网",
        article=LIBRARY_ARTICLE,
        **SIMPLIFIED,
    )
    (HERE / "library-gbk.html").write_bytes(gbk.encode("gbk"))
    # The UTF-8 page: the two water notices of the bundled page, with no charset declared.
    notices = [a for a in seed_articles() if a[0] == "## 停水通知"]
    body = ["<h1>太原供水集团停水通知</h1>"]
    for n, notice in enumerate(notices, start=1):
        body.append(f"<h2>停水通知(第{n}号)</h2>")
        body += [f"<p>{block.replace(chr(10), '<br>')}</p>" for block in notice[1:]]
    utf8 = PAGE.format(
        lang="zh-CN",
        meta="",
        title="停水通知 - 太原供水集团",
        article="\n".join(body),
        **SIMPLIFIED,
    )
    (HERE / "water-utf8.html").write_bytes(utf8.encode("utf-8"))
    # The Big5 page: the library notice in Traditional characters.
    to_trad = OpenCC("s2twp").convert
    big5 = PAGE.format(
        lang="zh-TW",
        meta='<meta charset="big5">',
        title=to_trad("迎泽区图书馆暑期开放时间调整"),
        article=to_trad(LIBRARY_ARTICLE),
        **{
            k: tuple(map(to_trad, v)) if isinstance(v, tuple) else to_trad(v)
            for k, v in SIMPLIFIED.items()
        },
    )
    (HERE / "library-big5.htm").write_bytes(big5.encode("big5"))


# -------------------------------------------------------------------------------- DOCX ----

FOOTNOTES_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:footnotes xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>
<w:footnote w:type="continuationSeparator" w:id="0">
<w:p><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>
<w:footnote w:id="1">
<w:p><w:r><w:t>脚注:数据截至2023年6月30日,来源为街道统计台账。</w:t></w:r></w:p></w:footnote>
</w:footnotes>
"""


def make_docx(path: Path) -> None:
    """A Word report: Heading 1/2, paragraphs, a table, a footnote and a page header."""
    from docx import Document
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml

    doc = Document()
    doc.core_properties.title = "桥东街道上半年社区服务工作报告"
    doc.core_properties.created = WHEN.replace(tzinfo=None)
    doc.core_properties.modified = WHEN.replace(tzinfo=None)
    doc.sections[0].header.paragraphs[0].text = "内部资料 注意保存"
    doc.add_heading("桥东街道上半年社区服务工作报告", level=1)
    doc.add_paragraph(
        "上半年,桥东街道围绕“一老一小”民生需求,新建社区食堂3处,改造口袋公园5个,"
        "为辖区居民办成实事12件。"
    )
    doc.add_heading("社区食堂", level=2)
    note = doc.add_paragraph(
        "三处社区食堂每天为辖区老人提供午餐约460份,70岁以上老人每餐优惠3元,"
        "行动不便的老人可预约送餐上门。"
    )
    note.add_run()._r.append(
        parse_xml(
            '<w:footnoteReference xmlns:w="http://schemas.openxmlformats.org/'
            'wordprocessingml/2006/main" w:id="1"/>'
        )
    )
    doc.add_heading("口袋公园", level=2)
    doc.add_paragraph("口袋公园改造优先利用边角空地,每处都配有健身器材和儿童游乐设施。")
    table = doc.add_table(rows=1, cols=3)
    for cell, text in zip(table.rows[0].cells, ("公园", "面积", "完工时间"), strict=True):
        cell.text = text
    for row in (
        ("朝阳街口袋公园", "1200平方米", "2023年4月"),
        ("双塔寺口袋公园", "860平方米", "2023年6月"),
    ):
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
    doc.add_heading("下半年计划", level=1)
    doc.add_paragraph("下半年计划再建设社区食堂2处,并推动老旧小区加装电梯20部。")
    footnotes = Part(
        PackURI("/word/footnotes.xml"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
        FOOTNOTES_XML.encode("utf-8"),
        doc.part.package,
    )
    doc.part.relate_to(footnotes, RT.FOOTNOTES)
    doc.save(str(path))
    _pin_zip_times(path)


def _pin_zip_times(path: Path) -> None:
    """Rewrite a zip with fixed member times, so regenerating gives the same bytes."""
    with zipfile.ZipFile(path) as old:
        members = [(info, old.read(info)) for info in old.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info, data in members:
            fixed = zipfile.ZipInfo(info.filename, date_time=(2023, 8, 30, 8, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            new.writestr(fixed, data)


CHAPTER = """<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>{title}</title></head>
<body>{body}</body></html>
"""


def make_epub(path: Path) -> None:
    """A two-chapter EPUB 3 book (the spine lists the chapters out of file-name order)."""
    chapters = {
        "text/b.xhtml": (
            "第一章 供水",
            "<h1>第一章 供水</h1><p>全市日均供水量达到78万立方米,高峰日首次突破90万立方米。</p>"
            "<p>年底前完成剩余42公里老旧管网改造。</p>",
        ),
        "text/a.xhtml": (
            "第二章 图书馆",
            "<h1>第二章 图书馆</h1><h2>开放时间</h2>"
            "<p>迎泽区图书馆暑期每天9时至21时开放,少儿阅览室开放至20时。</p>",
        ),
    }
    opf = """<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:identifier id="id">qabot-test-book</dc:identifier><dc:title>城市生活手册</dc:title>
<dc:language>zh-CN</dc:language></metadata>
<manifest>
<item id="c1" href="text/b.xhtml" media-type="application/xhtml+xml"/>
<item id="c2" href="text/a.xhtml" media-type="application/xhtml+xml"/>
</manifest>
<spine><itemref idref="c1"/><itemref idref="c2"/></spine>
</package>
"""
    container = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/book.opf" media-type="application/oebps-package+xml"/>
</rootfiles></container>
"""
    stamp = (2023, 8, 30, 8, 0, 0)
    with zipfile.ZipFile(path, "w") as book:
        book.writestr(zipfile.ZipInfo("mimetype", stamp), "application/epub+zip")
        entries = {"META-INF/container.xml": container, "OEBPS/book.opf": opf}
        for href, (title, body) in chapters.items():
            entries[f"OEBPS/{href}"] = CHAPTER.format(title=title, body=body)
        for name, text in entries.items():
            info = zipfile.ZipInfo(name, stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            book.writestr(info, text.encode("utf-8"))


def make_bad_files() -> None:
    """Files that only look like their format: a cut-off PDF, binary .html, a .docx not a zip."""
    whole = (HERE / "report.pdf").read_bytes()
    (HERE / "truncated.pdf").write_bytes(whole[: len(whole) // 3])
    (HERE / "binary.html").write_bytes(bytes(range(256)) * 4)
    (HERE / "not-a-zip.docx").write_bytes("这不是一个Word文件。\n".encode())


def main() -> int:
    make_newspaper(HERE / "newspaper.pdf")
    make_report(HERE / "report.pdf")
    make_report(HERE / "report-v2.pdf", changed=True)
    make_english(HERE / "english.pdf")
    make_scanned(HERE / "scanned.pdf")
    make_encrypted(HERE / "encrypted.pdf")
    make_html_pages()
    make_docx(HERE / "report.docx")
    make_epub(HERE / "handbook.epub")
    make_bad_files()
    for path in sorted(HERE.iterdir()):
        if path.suffix != ".py" and path.name != "README.md":
            print(f"{path.stat().st_size:>8}  {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
