"""The questionnaire's result as documents: a radar chart (PNG) and a PDF report.

The founder receives both, and so does the regional coordination when the founder agrees. The
report is a document people send: A4, the essentials on its first page, every name and answer
printed literally.

The chart is drawn by :mod:`bot.qualification.radar`; both are made in a drawing process on
Telegram (:mod:`bot.channels.telegram.drawing`), inline in the console.
"""

from __future__ import annotations

import io
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from bot.core.text import french_date, typeset
from bot.qualification.fonts import font_files, printable
from bot.qualification.radar import draw_radar_png
from bot.qualification.results import (
    IN_THE_MAKING,
    MET,
    MISSING,
    NOT_YET,
    OUT_OF_SCOPE,
    PARTIAL,
    PTCE,
    UNEXAMINED,
    AnswerLine,
    Result,
)

# The message naming each criterion status in the report (its words: Result.words).
_STATUS_WORD = {MET: "report_met", PARTIAL: "report_partial", MISSING: "report_missing",
                UNEXAMINED: "report_unexamined"}


# --------------------------------------------------------------------------------------------
# The result's files, kept for the latest results
# --------------------------------------------------------------------------------------------


def radar_png(result: Result) -> bytes:
    """The radar chart of ``result`` (:func:`draw_radar_png`). The latest charts are kept: a
    founder who asks to be put in touch right after their result sends the chart they have
    just seen."""
    return _kept_or_made(_CHARTS, _chart_key(result), lambda: _radar(result))


def draw_result_files(result: Result) -> tuple[bytes, bytes]:
    """The chart and the report of ``result``, drawn and written here: what
    :func:`keep_result_files` keeps when another process made them."""
    chart = _radar(result)
    return chart, report_pdf(result, chart)


def _radar(result: Result) -> bytes:
    return draw_radar_png(result.objectives, result.project, result.date, result.words)


def kept_result_files(result: Result) -> bool:
    """Whether the chart and the report of ``result`` are kept already (a lead sent right
    after its result carries the files the founder has just received)."""
    with _KEPT_LOCK:
        chart = _CHARTS.get(_chart_key(result))
        return chart is not None and (result, chart) in _REPORTS


def keep_result_files(result: Result, chart: bytes, report: bytes) -> None:
    """Keep files made elsewhere (a drawing process) for :func:`radar_png` and
    :func:`cached_report_pdf` to find."""
    _keep(_CHARTS, _chart_key(result), chart)
    _keep(_REPORTS, (result, chart), report)


def _chart_key(result: Result) -> tuple[Any, ...]:
    """What a kept chart is found by: what :func:`radar_png` draws from."""
    return (tuple(result.objectives), result.project, result.date, result.words)


_CHARTS: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_REPORTS: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_KEPT = 32  # of each: the results of the last minutes
_KEPT_LOCK = threading.Lock()


def _kept_or_made(kept: OrderedDict[tuple[Any, ...], bytes], key: tuple[Any, ...],
                  make: Callable[[], bytes]) -> bytes:
    """The file kept under ``key``, else made now (outside the lock) and kept."""
    with _KEPT_LOCK:
        found = kept.get(key)
    if found is None:
        found = make()
        _keep(kept, key, found)
    return found


def _keep(kept: OrderedDict[tuple[Any, ...], bytes], key: tuple[Any, ...], value: bytes
          ) -> None:
    with _KEPT_LOCK:
        kept[key] = value
        kept.move_to_end(key)
        while len(kept) > _KEPT:
            kept.popitem(last=False)


# --------------------------------------------------------------------------------------------
# PDF report
# --------------------------------------------------------------------------------------------

_STATUS_COLOUR = {MET: (27, 120, 55), PARTIAL: (199, 124, 2), MISSING: (178, 24, 43),
                  UNEXAMINED: (110, 110, 105)}
_VERDICT_COLOUR = {PTCE: (233, 245, 236), IN_THE_MAKING: (255, 245, 224),
                   NOT_YET: (253, 236, 238), OUT_OF_SCOPE: (239, 239, 237)}
_GREY = (91, 91, 87)
_BODY_PT = 9.5


def cached_report_pdf(result: Result, chart_png: bytes | None = None) -> bytes:
    """:func:`report_pdf`, kept for the latest results: writing it takes about half a second,
    so it is written ahead, outside the core's lock (see ``Outcomes.draw_ahead``)."""
    return _kept_or_made(_REPORTS, (result, chart_png), lambda: report_pdf(result, chart_png))


def report_pdf(result: Result, chart_png: bytes | None = None) -> bytes:
    """The result as an A4 PDF in French: the essentials on the first page (project and its
    description, territory and regional coordination, verdict, criteria, next steps,
    profile), then the answers. An adviser's copy (``result.adviser`` or notes) is marked
    confidential on every page and keeps the notes apart, before the answers.

    Built with fpdf2 and the DejaVu fonts (:mod:`bot.qualification.fonts`); the same result
    gives the same bytes (fixed creation date)."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    confidential = bool(result.adviser or result.notes)
    mark = (result.word("report_confidential_of", structure=result.adviser) if result.adviser
            else result.word("report_confidential"))
    title = result.word("report_title")
    disclaimer = result.word("report_disclaimer")

    class Document(FPDF):
        def header(self) -> None:
            if confidential:
                self.set_font("DejaVu", "B", 8)
                self.set_text_color(178, 24, 43)
                self.cell(0, 4, printable(mark), align="C", new_x=XPos.LMARGIN,
                          new_y=YPos.NEXT)
                self.set_text_color(0)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("DejaVu", "", 7.5)
            self.set_text_color(*_GREY)
            page = result.word("report_page", page=str(self.page_no()), pages="{nb}")
            self.cell(0, 4, printable(f"{disclaimer} {page}"), align="C")

    pdf = Document(format="A4", unit="mm")
    day = _parse_date(result.date) or date(2026, 1, 1)
    pdf.set_creation_date(datetime(day.year, day.month, day.day, tzinfo=UTC))
    pdf.set_title(f"{title} — {result.project}" if result.project.strip() else title)
    pdf.set_lang("fr")
    for style, path in font_files().items():
        pdf.add_font("DejaVu", style, str(path))
    pdf.set_margins(15, 12, 15)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    writer = _Writer(pdf, XPos, YPos)

    writer.title(result)
    writer.verdict(result)
    writer.criteria(result)
    writer.bullets(result.word("result_next_steps"), result.next_steps, numbered=True)
    writer.profile(result, chart_png)
    writer.bullets(result.word("result_strengths"), result.strengths)
    if result.notes:
        writer.answers(result.word("report_notes"), result.notes,
                       result.word("report_other_questions"))
    writer.answers(result.word("report_answers"), result.answers,
                   result.word("report_other_questions"))
    return bytes(pdf.output())


class _Writer:
    """Writes the report's blocks one under the other."""

    def __init__(self, pdf: Any, x: Any, y: Any) -> None:
        self.pdf, self.x, self.y = pdf, x, y

    def text(self, value: str) -> str:
        """A text as the font can print it."""
        return printable(typeset(value))

    def para(self, value: str, size: float = _BODY_PT, style: str = "", *,
             colour: tuple[int, int, int] = (0, 0, 0), fill: bool = False,
             height: float = 4.3) -> None:
        pdf = self.pdf
        pdf.set_font("DejaVu", style, size)
        pdf.set_text_color(*colour)
        pdf.multi_cell(0, height, self.text(value), fill=fill, align="L",
                       new_x=self.x.LMARGIN, new_y=self.y.NEXT)
        pdf.set_text_color(0)

    def heading(self, value: str) -> None:
        pdf = self.pdf
        if pdf.get_y() > pdf.h - 40:
            pdf.add_page()
        pdf.ln(2)
        self.para(value, 12, "B", height=6)
        pdf.set_draw_color(227, 227, 222)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(1.5)

    def title(self, result: Result) -> None:
        project = result.project.strip() or result.word("report_no_name")
        self.para(result.word("report_title"), 9, colour=_GREY)
        self.para(project, 17, "B", height=8)
        territory = ", ".join(p for p in (result.department, result.region) if p.strip())
        facts = [(result.word("report_territory"),
                  territory or result.word("report_territory_unknown"))]
        if result.coordination:
            facts.append((result.word("report_coordination"), result.coordination))
        facts.append((result.word("report_date"), result.word(
            "report_date_value", date=french_date(result.date), version=result.version)))
        for name, value in facts:
            self.pdf.set_font("DejaVu", "B", _BODY_PT)
            self.pdf.cell(46, 4.6, self.text(name))
            self.para(value)
        if result.description.strip():
            self.pdf.ln(1)
            self.para(f"« {result.description.strip()} »", _BODY_PT, "I")

    def verdict(self, result: Result) -> None:
        pdf = self.pdf
        pdf.ln(2)
        pdf.set_fill_color(*_VERDICT_COLOUR.get(result.verdict, (242, 242, 242)))
        self.para(f"{result.word('report_verdict')} : {result.verdict_label}", 13, "B",
                  fill=True, height=7)
        self.para(result.verdict_text, fill=True)
        self.para(f"{result.word('result_stage')} : {result.maturity}", fill=True)
        self.para(f"{result.word('result_eligibility')} : {result.eligibility_text}",
                  fill=True)
        pdf.set_fill_color(255, 255, 255)

    def criteria(self, result: Result) -> None:
        criteria = result.criteria
        if not criteria:
            return
        from fpdf.fonts import FontFace

        self.heading(result.word("report_criteria"))
        pdf = self.pdf
        pdf.set_font("DejaVu", "", 8.5)
        with pdf.table(col_widths=(8, 21, 60, 91), line_height=3.9, padding=0.8,
                       first_row_as_headings=False, borders_layout="HORIZONTAL_LINES",
                       cell_fill_mode="NONE", text_align="LEFT") as table:
            for criterion in criteria:
                level = result.word("report_blocking" if criterion.blocking
                                    else "report_expected")
                colour = _STATUS_COLOUR.get(criterion.status, _GREY)
                row = table.row()
                row.cell(criterion.id, style=FontFace(emphasis="BOLD"))
                status = result.word(_STATUS_WORD[criterion.status])
                row.cell(self.text(f"{criterion.icon} {status}"),
                         style=FontFace(color=colour, emphasis="BOLD"))
                row.cell(self.text(f"{criterion.label} ({level})"))
                row.cell(self.text(criterion.explanation))
        sources = dict.fromkeys(c.source for c in criteria if c.source.strip())
        self.para(f"{result.word('report_criteria_sources')} : " + " ; ".join(sources) + ".",
                  7.5,
                  colour=_GREY, height=3.5)

    def profile(self, result: Result, chart_png: bytes | None) -> None:
        objectives = result.objectives
        if not objectives:
            return
        from fpdf.fonts import FontFace

        pdf = self.pdf
        if pdf.get_y() > pdf.h - 100:
            pdf.add_page()
        self.heading(result.word("report_profile"))
        top, side = pdf.get_y(), 78 if chart_png else 0
        if chart_png:
            pdf.image(io.BytesIO(chart_png), x=pdf.l_margin, y=top, w=side - 4, h=side - 4)
        pdf.set_font("DejaVu", "", 8.5)
        width = pdf.epw - side
        with pdf.table(width=width, align="RIGHT", col_widths=(width - 22, 22),
                       line_height=4.2, padding=0.6, first_row_as_headings=False,
                       borders_layout="HORIZONTAL_LINES", cell_fill_mode="NONE",
                       text_align=("LEFT", "RIGHT")) as table:
            for objective in objectives:
                row = table.row()
                row.cell(self.text(objective.label))
                if objective.examined:
                    row.cell(f"{objective.score}/100", style=FontFace(emphasis="BOLD"))
                else:
                    row.cell(self.text(result.word("report_unexamined")),
                             style=FontFace(color=_GREY))
        pdf.set_x(pdf.l_margin + side)
        pdf.set_font("DejaVu", "", 7.5)
        pdf.set_text_color(*_GREY)
        pdf.multi_cell(width, 3.4, self.text(result.word("report_profile_note")), align="L",
                       new_x=self.x.LMARGIN, new_y=self.y.NEXT)
        pdf.set_text_color(0)
        pdf.set_y(max(pdf.get_y(), top + side))

    def bullets(self, title: str, items: Sequence[str], *, numbered: bool = False) -> None:
        if not items:
            return
        self.heading(title)
        for n, item in enumerate(items, 1):
            self.para(f"{n}. {item}" if numbered else f"• {item}")

    def answers(self, title: str, lines: Sequence[AnswerLine], other: str) -> None:
        """The answers under ``title``, by section (``other``: the questions without one)."""
        if not lines:
            return
        self.heading(title)
        pdf = self.pdf
        section = None
        for line in lines:
            if line.section != section:
                section = line.section
                pdf.ln(0.5)
                self.para(section or other, 9.5, "B", colour=_GREY)
            if line.question:
                self.para(line.question, 8.5, "B", height=3.9)
            self.para(line.answer.strip() or "—", 8.5, height=3.9)


def report_filename(result: Result, extension: str = "pdf") -> str:
    """A safe, ASCII file name, e.g. ``rapport-ptce-lea-co-2026-11-26.pdf``."""
    return f"rapport-{files_stem(result)}.{extension}"


def chart_filename(result: Result) -> str:
    """The chart's file name, one per questionnaire: ``profil-ptce-lea-co-2026-11-26.png``."""
    return f"profil-{files_stem(result)}.png"


def files_stem(result: Result) -> str:
    """``ptce-<project>-<date>``, ASCII, for the files of one result."""
    slug = _slug(result.project)[:50].rstrip("-") or "projet"
    day = _parse_date(result.date)
    return f"ptce-{slug}-{day.isoformat()}" if day else f"ptce-{slug}"


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


def _slug(text: str) -> str:
    text = text.translate(_LIGATURES)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _guillemets(quote: str) -> str:
    """The quote between French guillemets, whether or not it already had them."""
    text = quote.strip().removeprefix("«").removesuffix("»").strip()
    return f"«\u00a0{text}\u00a0»" if text else ""
