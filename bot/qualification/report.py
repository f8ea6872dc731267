"""The questionnaire's result as documents: a radar chart (PNG) and a PDF report.

The founder receives both, and so does the regional coordination when the founder agrees. The
report is a document people send: A4, the essentials on its first page, every name and answer
printed literally.

matplotlib is imported lazily, only when a chart is drawn, through its object-oriented API
(``Figure`` + ``FigureCanvasAgg``) rather than ``pyplot``: no global figure registry, safe to
call from several threads.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from bot.core.text import french_date, typeset
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
    CriterionResult,
    ObjectiveScore,
    Result,
)

TITLE = "Mon projet est-il un PTCE ? — rapport"
DISCLAIMER = (
    "Outil inspiré du référentiel des PTCE — ce n'est pas le référentiel officiel ; "
    "ce rapport n'est pas un label."
)
ELIGIBILITY_PREFIX = "Éligible aux appels de l'État en l'état : "


# One colour per general objective, in order of appearance (colour-blind friendly, dark enough
# to read as text on white; no red, which would read as "bad").
_GENERAL_COLOURS = ("#1b7837", "#2166ac", "#8c510a")
_POLYGON_COLOUR = "#6a3d9a"
_GRID_COLOUR = "#b0b0b0"
_UNEXAMINED_COLOUR = "#8a8a85"

# Chart geometry: 10 × 10 inches at 100 dpi = 1000 × 1000 px.
_FIGSIZE = 10.0
_DPI = 100
_LABEL_PT = 21
_SCORE_PT = 21
_SMALL_PT = 17  # the smallest text of the chart (legend)
_LABEL_WIDTH = 16  # characters per line of an objective's label

_STATUS_WORD = {MET: "rempli", PARTIAL: "en partie", MISSING: "manquant",
                UNEXAMINED: "non examiné"}



# --------------------------------------------------------------------------------------------
# Radar chart
# --------------------------------------------------------------------------------------------


def radar_png(objectives: Sequence[ObjectiveScore], project: str = "", day: str = "") -> bytes:
    """The radar chart of :func:`draw_radar_png`. The latest charts are kept: a founder who
    asks to be put in touch right after their result sends the chart they have just seen."""
    key = (tuple(objectives), project, day)
    return _kept_or_made(_CHARTS, key, lambda: draw_radar_png(*key))


def draw_result_files(result: Result) -> tuple[bytes, bytes]:
    """The chart and the report of ``result``, drawn and written here: what
    :func:`keep_result_files` keeps when another process made them."""
    chart = draw_radar_png(result.objectives, result.project, result.date)
    return chart, report_pdf(result, chart)


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
    return (tuple(result.objectives), result.project, result.date)


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


def draw_radar_png(objectives: Sequence[ObjectiveScore], project: str = "", day: str = ""
                   ) -> bytes:
    """Draw the objectives' scores (0–100) as a radar chart and return it as PNG bytes.

    About 1000 × 1000 px with large text, to stay readable on a phone: one axis per objective,
    starting at the top and turning clockwise; axis labels coloured by general objective, with a
    legend; gridlines at 25, 50, 75 and 100; the score written next to each point. An objective
    not examined (too few answers) has no point: its axis says « non examiné » in grey, and the
    polygon joins the others. The project's name and the date (ISO) head the picture, which
    may travel alone. The same input gives the same bytes (no timestamp in the PNG metadata).

    What does not change from one founder to the next (axes, rings, labels, legend) is drawn
    once per set of objectives and kept as a picture (:class:`_RadarTemplate`); each chart
    then draws only its title, polygon and scores over it.

    Raises ``ValueError`` with fewer than three objectives (no polygon to draw).
    """
    if len(objectives) < 3:
        raise ValueError("Un graphique radar demande au moins trois objectifs.")
    key = tuple((o.label, o.general, o.examined) for o in objectives)
    with _DRAWING:  # matplotlib's figures are not shared safely between threads
        return _radar_template(key).draw(objectives, project, day)


_DRAWING = threading.Lock()
_PNG_COMPRESSION = 1  # zlib level: fastest; the palette already makes the file small


@lru_cache(maxsize=4)
def _radar_template(key: tuple[tuple[str, str, bool], ...]) -> _RadarTemplate:
    return _RadarTemplate(key)


class _RadarTemplate:
    """The parts of the radar common to every chart of a set of objectives, drawn once."""

    def __init__(self, key: tuple[tuple[str, str, bool], ...]) -> None:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import Patch
        from matplotlib.projections.polar import PolarAxes

        self.colours = _general_colours(general for _, general, _ in key)
        count = len(key)
        self.angles = [2 * math.pi * i / count for i in range(count)]
        fig = Figure(figsize=(_FIGSIZE, _FIGSIZE), dpi=_DPI, facecolor="white")
        self.canvas = FigureCanvasAgg(fig)
        self.fig = fig
        ax = cast(PolarAxes, fig.add_axes((0.3, 0.29, 0.4, 0.4), projection="polar"))
        ax.set_theta_offset(math.pi / 2)
        ax.set_theta_direction(-1)
        ax.set_ylim(0, 100)
        ax.set_autoscale_on(False)
        ax.set_xticks(self.angles)
        ax.set_xticklabels([])
        ax.set_yticks([25, 50, 75, 100])
        ax.set_yticklabels([])  # the rings are said in the subtitle: no number under a score
        ax.grid(color=_GRID_COLOUR, linewidth=1.0)
        ax.spines["polar"].set_color(_GRID_COLOUR)
        self.ax = ax
        for angle, (label, general, examined) in zip(self.angles, key, strict=True):
            colour = self.colours[general] if examined else _UNEXAMINED_COLOUR
            text = _wrap(label) + ("" if examined else "\n(non examiné)")
            ax.text(angle, 114, text, fontsize=_LABEL_PT, color=colour,
                    fontweight="bold", ha=_horizontal_alignment(angle),
                    va=_vertical_alignment(angle), multialignment="center",
                    linespacing=1.15, clip_on=False)
        if not any(examined for _, _, examined in key):
            ax.text(0, 0, "non examiné", fontsize=_LABEL_PT, color=_UNEXAMINED_COLOUR,
                    ha="center", va="center", zorder=5)
        fig.legend(
            handles=[Patch(facecolor=colour, edgecolor=colour, label=general)
                     for general, colour in self.colours.items()],
            loc="lower center", bbox_to_anchor=(0.5, 0.01), ncol=1, frameon=False,
            fontsize=_SMALL_PT, title="Objectifs généraux", title_fontsize=_SMALL_PT,
            handlelength=1.2, handleheight=1.2,
        )
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(fig.bbox)

    def draw(self, objectives: Sequence[ObjectiveScore], project: str, day: str) -> bytes:
        """This founder's chart: the kept picture, then the title, polygon and scores."""
        from PIL import Image

        fig, ax = self.fig, self.ax
        self.canvas.restore_region(self.background)
        project = _printable(project, _font_cmap(_font_files()["B"])).strip()
        heading = f"Profil de « {project} »" if project else "Profil du projet"
        subtitle = "notés de 0 à 100, un cercle tous les 25"
        shown: list[Any] = [
            fig.text(0.5, 0.975, _ellipsis(heading, 40), fontsize=28, fontweight="bold",
                     ha="center", va="top"),
            fig.text(0.5, 0.91, f"{subtitle} · {french_date(day)}" if day else subtitle,
                     ha="center", fontsize=_SMALL_PT, color="#444444"),
        ]
        scores = [min(100, max(0, int(objective.score))) for objective in objectives]
        examined = [(angle, score) for angle, score, objective
                    in zip(self.angles, scores, objectives, strict=True) if objective.examined]
        if len(examined) >= 3:
            closed = [*examined, examined[0]]
            shown += ax.fill([a for a, _ in closed], [s for _, s in closed],
                             color=_POLYGON_COLOUR, alpha=0.25, zorder=2)
            shown += ax.plot([a for a, _ in closed], [s for _, s in closed],
                             color=_POLYGON_COLOUR, linewidth=3, zorder=3)
        for angle, score, objective in zip(self.angles, scores, objectives, strict=True):
            if not objective.examined:
                continue
            colour = self.colours[objective.general]
            shown += ax.plot([angle], [score], marker="o", markersize=10, color=colour,
                             markeredgecolor="white", markeredgewidth=1.5, zorder=4)
            shown.append(ax.text(angle, _score_radius(score), str(score), fontsize=_SCORE_PT,
                                 fontweight="bold", color=colour, ha="center", va="center",
                                 zorder=5, bbox={"boxstyle": "round,pad=0.15",
                                                 "facecolor": "white", "edgecolor": "none",
                                                 "alpha": 0.85}))
        try:
            for artist in shown:
                fig.draw_artist(artist)
            width, height = self.canvas.get_width_height()
            image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(),
                                     "raw", "RGBA", 0, 1).convert("RGB")
            # A few flat colours and their anti-aliasing: 256 colours keep the picture, and
            # the file is a third of the size, encoded twice as fast.
            palette = image.quantize(colors=256, method=Image.Quantize.FASTOCTREE)
            buffer = io.BytesIO()
            palette.save(buffer, format="PNG", compress_level=_PNG_COMPRESSION)
            return buffer.getvalue()
        finally:
            for artist in shown:
                artist.remove()


def _ellipsis(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def png_bytes(fig: Any, dpi: int) -> bytes:
    """A matplotlib figure as PNG bytes, without the software name in its metadata (the same
    figure gives the same bytes)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white", metadata={"Software": None})
    return buffer.getvalue()


def _general_colours(generals: Iterable[str]) -> dict[str, str]:
    """Give each general objective a colour, in order of first appearance."""
    colours: dict[str, str] = {}
    for general in generals:
        if general not in colours:
            colours[general] = _GENERAL_COLOURS[len(colours) % len(_GENERAL_COLOURS)]
    return colours


def _wrap(label: str, width: int = _LABEL_WIDTH) -> str:
    """Break a label into two balanced lines (more only if a line would exceed ``width``)."""
    words = label.split()
    if len(words) < 2:
        return label
    splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
    first, second = min(splits, key=lambda lines: max(len(lines[0]), len(lines[1])))
    if max(len(first), len(second)) <= width:
        return f"{first}\n{second}"
    return "\n".join(textwrap.wrap(label, width=width, break_long_words=False))


def _score_radius(score: int) -> float:
    """Where to write a score: just outside its point, inside the circle near the rim."""
    return score - 16 if score > 78 else max(score + 15, 22)


def _horizontal_alignment(angle: float) -> str:
    """Align a label away from the centre (angle measured clockwise from the top)."""
    x = math.sin(angle)
    if abs(x) < 0.2:
        return "center"
    return "left" if x > 0 else "right"


def _vertical_alignment(angle: float) -> str:
    """Put labels above the top axes and below the bottom ones."""
    y = math.cos(angle)
    if y > 0.5:
        return "bottom"
    if y < -0.5:
        return "top"
    return "center"


# --------------------------------------------------------------------------------------------
# PDF report
# --------------------------------------------------------------------------------------------

# Icons of the chat that the report's font (DejaVu Sans, shipped with matplotlib) does not
# have, and their printed equivalents; other characters missing from the font are dropped.
_PRINTED = str.maketrans({"✅": "✔", "❌": "✘", "➖": "–", "\ufe0f": None, "🧭": None})
_STATUS_COLOUR = {MET: (27, 120, 55), PARTIAL: (199, 124, 2), MISSING: (178, 24, 43),
                  UNEXAMINED: (110, 110, 105)}
_VERDICT_COLOUR = {PTCE: (233, 245, 236), IN_THE_MAKING: (255, 245, 224),
                   NOT_YET: (253, 236, 238), OUT_OF_SCOPE: (239, 239, 237)}
_GREY = (91, 91, 87)
_BODY_PT = 9.5


def cached_report_pdf(result: Result, chart_png: bytes | None = None) -> bytes:
    """:func:`report_pdf`, kept for the latest results: writing it takes about half a second,
    so it is written ahead, outside the core's lock (see ``Interview.draw_ahead``)."""
    return _kept_or_made(_REPORTS, (result, chart_png), lambda: report_pdf(result, chart_png))


def report_pdf(result: Result, chart_png: bytes | None = None) -> bytes:
    """The result as an A4 PDF in French: the essentials on the first page (project and its
    description, territory and regional coordination, verdict, criteria, next steps,
    profile), then the answers. An adviser's copy (``result.adviser`` or notes) is marked
    confidential on every page and keeps the notes apart, before the answers.

    Built with fpdf2 and the DejaVu fonts that matplotlib ships; the same result gives the
    same bytes (fixed creation date)."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    confidential = bool(result.adviser or result.notes)
    mark = (f"Confidentiel — notes de l'accompagnateur ({result.adviser})" if result.adviser
            else "Confidentiel — notes de l'accompagnateur")

    class Document(FPDF):
        def header(self) -> None:
            if confidential:
                self.set_font("DejaVu", "B", 8)
                self.set_text_color(178, 24, 43)
                self.cell(0, 4, f"{mark} : à ne pas transmettre au porteur du projet",
                          align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                self.set_text_color(0)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("DejaVu", "", 7.5)
            self.set_text_color(*_GREY)
            self.cell(0, 4, f"{DISCLAIMER} Page {self.page_no()}/{{nb}}", align="C")

    pdf = Document(format="A4", unit="mm")
    day = _parse_date(result.date) or date(2026, 1, 1)
    pdf.set_creation_date(datetime(day.year, day.month, day.day, tzinfo=UTC))
    pdf.set_title(f"{TITLE} — {result.project}" if result.project.strip() else TITLE)
    pdf.set_lang("fr")
    fonts = _font_files()
    for style, path in fonts.items():
        pdf.add_font("DejaVu", style, str(path))
    pdf.set_margins(15, 12, 15)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    writer = _Writer(pdf, XPos, YPos, _font_cmap(fonts[""]))

    writer.title(result)
    writer.verdict(result)
    writer.criteria(result.criteria)
    writer.bullets("Prochaines étapes", result.next_steps, numbered=True)
    writer.profile(result, chart_png)
    writer.bullets("Points forts", result.strengths)
    if result.notes:
        writer.answers("Notes de l'accompagnateur (privées)", result.notes)
    writer.answers("Vos réponses", result.answers)
    return bytes(pdf.output())


def _printable(text: str, cmap: frozenset[int]) -> str:
    """``text`` without what the font cannot draw: control characters, emoji missing from
    it (the chat's ✅ ❌ ➖ become ✔ ✘ –)."""
    printed = text.translate(_PRINTED)
    return "".join(c for c in printed if c in "\n\t" or (ord(c) in cmap
                                                        and not unicodedata.category(c)
                                                        .startswith("C")))


class _Writer:
    """Writes the report's blocks one under the other."""

    def __init__(self, pdf: Any, x: Any, y: Any, cmap: frozenset[int]) -> None:
        self.pdf, self.x, self.y, self.cmap = pdf, x, y, cmap

    def text(self, value: str) -> str:
        """A text as the font can print it."""
        return _printable(typeset(value), self.cmap)

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
        project = result.project.strip() or "Projet sans nom"
        self.para(TITLE, 9, colour=_GREY)
        self.para(project, 17, "B", height=8)
        territory = ", ".join(p for p in (result.department, result.region) if p.strip())
        facts = [("Territoire", territory or "non précisé")]
        if result.coordination:
            facts.append(("Coordination régionale", result.coordination))
        facts.append(("Date", f"{french_date(result.date)} · questionnaire {result.version}"))
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
        self.para(f"Verdict : {result.verdict_label}", 13, "B", fill=True, height=7)
        self.para(result.verdict_text, fill=True)
        self.para(f"Stade de maturité : {result.maturity}", fill=True)
        self.para(f"{ELIGIBILITY_PREFIX}{result.eligibility_text}", fill=True)
        pdf.set_fill_color(255, 255, 255)

    def criteria(self, criteria: Sequence[CriterionResult]) -> None:
        if not criteria:
            return
        from fpdf.fonts import FontFace

        self.heading("Les critères de la loi (article 9 de la loi du 31 juillet 2014)")
        pdf = self.pdf
        pdf.set_font("DejaVu", "", 8.5)
        with pdf.table(col_widths=(8, 21, 60, 91), line_height=3.9, padding=0.8,
                       first_row_as_headings=False, borders_layout="HORIZONTAL_LINES",
                       cell_fill_mode="NONE", text_align="LEFT") as table:
            for criterion in criteria:
                level = "bloquant" if criterion.blocking else "attendu"
                colour = _STATUS_COLOUR.get(criterion.status, _GREY)
                row = table.row()
                row.cell(criterion.id, style=FontFace(emphasis="BOLD"))
                row.cell(self.text(f"{criterion.icon} {_STATUS_WORD[criterion.status]}"),
                         style=FontFace(color=colour, emphasis="BOLD"))
                row.cell(self.text(f"{criterion.label} ({level})"))
                row.cell(self.text(criterion.explanation))
        sources = dict.fromkeys(c.source for c in criteria if c.source.strip())
        self.para("Texte de chaque critère : " + " ; ".join(sources) + ".", 7.5,
                  colour=_GREY, height=3.5)

    def profile(self, result: Result, chart_png: bytes | None) -> None:
        objectives = result.objectives
        if not objectives:
            return
        from fpdf.fonts import FontFace

        pdf = self.pdf
        if pdf.get_y() > pdf.h - 100:
            pdf.add_page()
        self.heading("Profil du projet (outil inspiré du référentiel des PTCE)")
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
                    row.cell("non examiné", style=FontFace(color=_GREY))
        pdf.set_x(pdf.l_margin + side)
        pdf.set_font("DejaVu", "", 7.5)
        pdf.set_text_color(*_GREY)
        pdf.multi_cell(width, 3.4, self.text(_PROFILE_NOTE), align="L",
                       new_x=self.x.LMARGIN, new_y=self.y.NEXT)
        pdf.set_text_color(0)
        pdf.set_y(max(pdf.get_y(), top + side))

    def bullets(self, title: str, items: Sequence[str], *, numbered: bool = False) -> None:
        if not items:
            return
        self.heading(title)
        for n, item in enumerate(items, 1):
            self.para(f"{n}. {item}" if numbered else f"• {item}")

    def answers(self, title: str, lines: Sequence[AnswerLine]) -> None:
        if not lines:
            return
        self.heading(title)
        pdf = self.pdf
        section = None
        for line in lines:
            if line.section != section:
                section = line.section
                pdf.ln(0.5)
                self.para(section or "Autres questions", 9.5, "B", colour=_GREY)
            if line.question:
                self.para(line.question, 8.5, "B", height=3.9)
            self.para(line.answer.strip() or "—", 8.5, height=3.9)


_PROFILE_NOTE = ("Chaque objectif est noté de 0 à 100 d'après les réponses ; «\u00a0non "
                 "examiné\u00a0» : "
                 "trop peu de réponses pour le noter. Un critère de la loi rempli donne au "
                 "moins 50 à l'objectif qui l'approfondit.")


@lru_cache(maxsize=1)
def _font_files() -> dict[str, Path]:
    """DejaVu Sans, regular, bold and oblique, from matplotlib's data (always installed)."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return {"": folder / "DejaVuSans.ttf", "B": folder / "DejaVuSans-Bold.ttf",
            "I": folder / "DejaVuSans-Oblique.ttf"}


@lru_cache(maxsize=1)
def _font_cmap(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(str(path), lazy=True).getBestCmap())


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
