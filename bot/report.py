"""The questionnaire's result as documents: a radar chart (PNG) and a self-contained HTML report.

The founder receives both, and so does the regional coordination when the founder agrees. The
report must read well on a phone and on paper, load nothing from the network, and show every
name and answer literally: all text coming from the result is escaped.

matplotlib is imported lazily, only when a chart is drawn, through its object-oriented API
(``Figure`` + ``FigureCanvasAgg``) rather than ``pyplot``: no global figure registry, safe to
call from several threads.
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
import textwrap
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from bot.results import (
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

_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)

# One colour per general objective, in order of appearance (colour-blind friendly, dark enough
# to read as text on white).
_GENERAL_COLOURS = ("#1b7837", "#2166ac", "#b2182b")
_POLYGON_COLOUR = "#6a3d9a"
_GRID_COLOUR = "#b0b0b0"

# Chart geometry: 10 × 10 inches at 100 dpi = 1000 × 1000 px.
_FIGSIZE = 10.0
_DPI = 100
_LABEL_PT = 16
_SCORE_PT = 16
_SMALL_PT = 14  # the smallest text of the chart (gridline values, legend)
_LABEL_WIDTH = 20  # characters per line of an objective's label

_STATUS_WORD = {MET: "rempli", PARTIAL: "en partie", MISSING: "manquant",
                UNEXAMINED: "non examiné"}

_VERDICT_CLASS = {
    PTCE: "ptce",
    IN_THE_MAKING: "en-devenir",
    NOT_YET: "pas-encore",
    OUT_OF_SCOPE: "hors-champ",
}


# --------------------------------------------------------------------------------------------
# Radar chart
# --------------------------------------------------------------------------------------------


def radar_png(objectives: Sequence[ObjectiveScore]) -> bytes:
    """The radar chart of :func:`draw_radar_png`. The latest charts are kept: a founder who
    asks to be put in touch right after their result sends the chart they have just seen,
    which took a quarter of a second to draw."""
    return _cached_radar_png(tuple(objectives))


@lru_cache(maxsize=32)
def _cached_radar_png(objectives: tuple[ObjectiveScore, ...]) -> bytes:
    return draw_radar_png(objectives)


def draw_radar_png(objectives: Sequence[ObjectiveScore]) -> bytes:
    """Draw the objectives' scores (0–100) as a radar chart and return it as PNG bytes.

    About 1000 × 1000 px with large text, to stay readable on a phone: one axis per objective,
    starting at the top and turning clockwise; axis labels coloured by general objective, with a
    legend; gridlines at 25, 50, 75 and 100; the score written next to each point. The same
    input gives the same bytes (no timestamp nor software name in the PNG metadata).

    Raises ``ValueError`` with fewer than three objectives (no polygon to draw).
    """
    if len(objectives) < 3:
        raise ValueError("Un graphique radar demande au moins trois objectifs.")

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    colours = _general_colours(objective.general for objective in objectives)
    count = len(objectives)
    angles = [2 * math.pi * i / count for i in range(count)]
    scores = [min(100, max(0, int(objective.score))) for objective in objectives]

    fig = Figure(figsize=(_FIGSIZE, _FIGSIZE), dpi=_DPI, facecolor="white")
    FigureCanvasAgg(fig)
    try:
        fig.suptitle(
            "Profil du projet : neuf objectifs, notés de 0 à 100" if count == 9
            else "Profil du projet : objectifs notés de 0 à 100",
            fontsize=20, fontweight="bold", y=0.96,
        )
        ax = fig.add_axes((0.29, 0.31, 0.42, 0.42), projection="polar")
        ax.set_theta_offset(math.pi / 2)
        ax.set_theta_direction(-1)
        ax.set_ylim(0, 100)
        ax.set_xticks(angles)
        ax.set_xticklabels([])
        ax.set_yticks([25, 50, 75, 100])
        ax.set_yticklabels(["25", "50", "75", "100"], fontsize=_SMALL_PT, color="#666666")
        ax.set_rlabel_position(180 / count)  # between the first two axes
        ax.grid(color=_GRID_COLOUR, linewidth=1.0)
        ax.spines["polar"].set_color(_GRID_COLOUR)

        closed_angles = [*angles, angles[0]]
        closed_scores = [*scores, scores[0]]
        ax.fill(closed_angles, closed_scores, color=_POLYGON_COLOUR, alpha=0.25, zorder=2)
        ax.plot(closed_angles, closed_scores, color=_POLYGON_COLOUR, linewidth=3, zorder=3)

        for angle, score, objective in zip(angles, scores, objectives, strict=True):
            colour = colours[objective.general]
            ax.plot([angle], [score], marker="o", markersize=10, color=colour,
                    markeredgecolor="white", markeredgewidth=1.5, zorder=4)
            ax.text(angle, _score_radius(score), str(score), fontsize=_SCORE_PT,
                    fontweight="bold", color=colour, ha="center", va="center", zorder=5,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white",
                          "edgecolor": "none", "alpha": 0.85})
            ax.text(angle, 114, _wrap(objective.label), fontsize=_LABEL_PT, color=colour,
                    fontweight="bold", ha=_horizontal_alignment(angle),
                    va=_vertical_alignment(angle), multialignment="center",
                    linespacing=1.15, clip_on=False)

        fig.legend(
            handles=[Patch(facecolor=colour, edgecolor=colour, label=general)
                     for general, colour in colours.items()],
            loc="lower center", bbox_to_anchor=(0.5, 0.015), ncol=1, frameon=False,
            fontsize=_LABEL_PT - 1, title="Objectifs généraux", title_fontsize=_LABEL_PT - 1,
            handlelength=1.2, handleheight=1.2,
        )

        return png_bytes(fig, _DPI)
    finally:
        fig.clear()


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
# HTML report
# --------------------------------------------------------------------------------------------


def report_html(result: Result, chart_png: bytes | None = None) -> str:
    """Render the result as a self-contained HTML5 document in French.

    Inline CSS, readable on a phone and printable; the chart (``chart_png``, e.g. from
    :func:`radar_png`) is embedded as a ``data:`` URI; nothing is loaded from the network.
    Every string from ``result`` is escaped, so names and answers show literally.
    """
    e = _escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="fr">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(TITLE)}{' — ' + e(result.project) if result.project.strip() else ''}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        _header(result),
        _verdict(result),
        _criteria(result.criteria),
        _profile(result.objectives, chart_png),
        _bullets("Vos points forts", result.strengths, "ul"),
        _bullets("Vos prochaines étapes", result.next_steps, "ol"),
        _notes(result.notes),
        _answers(result.answers),
        "</main>",
        f'<footer><p>{e(DISCLAIMER)}</p></footer>',
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(part for part in parts if part)


def report_filename(result: Result) -> str:
    """A safe, ASCII file name for the report, e.g. ``rapport-ptce-lea-co-2026-11-26.html``."""
    slug = _slug(result.project)[:50].rstrip("-") or "projet"
    day = _parse_date(result.date)
    suffix = f"-{day.isoformat()}" if day else ""
    return f"rapport-ptce-{slug}{suffix}.html"


def french_date(value: str) -> str:
    """An ISO date written the French way: ``2026-11-26`` → ``26 novembre 2026``.

    The first of the month is ``1er``; a value that is not an ISO date is returned unchanged.
    """
    day = _parse_date(value)
    if day is None:
        return value
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {_MONTHS[day.month - 1]} {day.year}"


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _slug(text: str) -> str:
    text = text.translate(str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"}))
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _header(result: Result) -> str:
    e = _escape
    territory = ", ".join(part for part in (result.department, result.region) if part.strip())
    rows = [
        ("Projet", result.project.strip() or "non précisé"),
        ("Territoire", territory or "non précisé"),
        ("Date", french_date(result.date)),
        ("Version du questionnaire", result.version),
    ]
    meta = "".join(f"<dt>{e(name)}</dt><dd>{e(value)}</dd>" for name, value in rows)
    return f'<header>\n<h1>{e(TITLE)}</h1>\n<dl class="meta">{meta}</dl>\n</header>'


def _verdict(result: Result) -> str:
    e = _escape
    css = _VERDICT_CLASS.get(result.verdict, "autre")
    eligibility = "eligible" if result.eligible else "not-eligible"
    return (
        f'<section class="verdict verdict-{css}" aria-labelledby="verdict">\n'
        f'<h2 id="verdict">{e(result.verdict_label)}</h2>\n'
        f"<p>{e(result.verdict_text)}</p>\n"
        f'<p class="maturity"><strong>Maturité :</strong> {e(result.maturity)}</p>\n'
        f'<p class="eligibility {eligibility}"><strong>{e(ELIGIBILITY_PREFIX)}</strong>'
        f"{e(result.eligibility_text)}</p>\n"
        "</section>"
    )


def _criteria(criteria: Sequence[CriterionResult]) -> str:
    if not criteria:
        return ""
    e = _escape
    rows = []
    for criterion in criteria:
        level = "bloquant" if criterion.blocking else "attendu"
        status = _STATUS_WORD.get(criterion.status, "")
        quote = _guillemets(criterion.quote)
        reference = (f'<blockquote>{e(quote)}</blockquote>' if quote else "") + (
            f"<cite>{e(criterion.source)}</cite>" if criterion.source.strip() else ""
        )
        rows.append(
            f'<tr class="status-{e(criterion.status)}">'
            f'<td class="icon"><span role="img" aria-label="{status}">'
            f"{e(criterion.icon)}</span> "
            f"<strong>{e(criterion.id)}</strong></td>"
            f'<td><strong>{e(criterion.label)}</strong> <span class="level level-{level}">'
            f"({level})</span></td>"
            f"<td>{e(criterion.explanation)}</td>"
            f"<td>{reference}</td></tr>"
        )
    return (
        '<section aria-labelledby="criteria">\n'
        '<h2 id="criteria">Les critères de la loi (article 9)</h2>\n'
        '<p class="legend">✅ rempli · ⚠️ en partie · ❌ manquant. Un critère '
        "<em>bloquant</em> manquant empêche de parler de PTCE ; un critère <em>attendu</em> "
        "manquant est un point à travailler.</p>\n"
        '<table class="criteria">\n<thead><tr><th scope="col">Critère</th>'
        '<th scope="col">Intitulé</th><th scope="col">Constat</th>'
        '<th scope="col">Texte de référence</th></tr></thead>\n<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody>\n</table>\n</section>"
    )


def _guillemets(quote: str) -> str:
    """The quote between French guillemets, whether or not it already had them."""
    text = quote.strip().removeprefix("«").removesuffix("»").strip()
    return f"«\u00a0{text}\u00a0»" if text else ""


def _profile(objectives: Sequence[ObjectiveScore], chart_png: bytes | None) -> str:
    if not objectives and chart_png is None:
        return ""
    e = _escape
    figure = ""
    if chart_png:
        alt = "Graphique radar des objectifs : " + " ; ".join(
            f"{objective.label} {objective.score}/100" for objective in objectives
        )
        data = base64.b64encode(chart_png).decode("ascii")
        figure = (
            f'<figure class="chart"><img src="data:image/png;base64,{data}" alt="{e(alt)}">'
            "</figure>\n"
        )
    rows = "".join(
        f"<tr><td>{e(objective.general)}</td><td>{e(objective.label)}</td>"
        f'<td class="score">{int(objective.score)}</td></tr>'
        for objective in objectives
    )
    table = (
        '<table class="scores"><thead><tr><th scope="col">Objectif général</th>'
        '<th scope="col">Objectif</th><th scope="col">Score sur 100</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>\n"
        if objectives else ""
    )
    return (
        '<section aria-labelledby="profile">\n'
        '<h2 id="profile">Profil de votre projet</h2>\n'
        "<p>Chaque objectif est noté de 0 à 100 d'après vos réponses.</p>\n"
        f"{figure}{table}</section>"
    )


def _bullets(title: str, items: Sequence[str], tag: str) -> str:
    if not items:
        return ""
    e = _escape
    entries = "".join(f"<li>{e(item)}</li>" for item in items)
    return f"<section>\n<h2>{e(title)}</h2>\n<{tag}>{entries}</{tag}>\n</section>"


def _notes(notes: Sequence[AnswerLine]) -> str:
    if not notes:
        return ""
    e = _escape
    entries = []
    for note in notes:
        heading = " — ".join(part for part in (note.section, note.question) if part.strip())
        prefix = f"<strong>{e(heading)} :</strong> " if heading else ""
        entries.append(f"<li>{prefix}{e(note.answer)}</li>")
    return (
        '<section class="notes">\n<h2>Notes de l\'accompagnement</h2>\n'
        f"<ul>{''.join(entries)}</ul>\n</section>"
    )


def _answers(answers: Sequence[AnswerLine]) -> str:
    if not answers:
        return ""
    e = _escape
    sections: dict[str, list[AnswerLine]] = {}
    for line in answers:
        sections.setdefault(line.section, []).append(line)
    blocks = []
    for section, lines in sections.items():
        items = "".join(
            f"<dt>{e(line.question)}</dt><dd>{e(line.answer) if line.answer.strip() else '—'}</dd>"
            for line in lines
        )
        title = e(section) if section.strip() else "Autres questions"
        blocks.append(f"<h3>{title}</h3>\n<dl>{items}</dl>")
    return (
        '<section class="answers">\n<h2>Vos réponses</h2>\n' + "\n".join(blocks) + "\n</section>"
    )


_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f4f1; color: #1d1d1b;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 52rem; margin: 0 auto; padding: 1rem; background: #fff; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: .5rem 0 1rem; }
h2 { font-size: 1.3rem; margin: 1.75rem 0 .5rem; border-bottom: 2px solid #e3e3de;
  padding-bottom: .25rem; }
h3 { font-size: 1.1rem; margin: 1.25rem 0 .25rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .75rem;
  margin: 0; }
dl.meta dt { color: #5b5b57; }
dl.meta dd { margin: 0; font-weight: 600; }
.verdict { margin: 1.25rem 0; padding: 1rem 1.25rem; border-radius: .5rem;
  border-left: .5rem solid #777; background: #f2f2f2; }
.verdict h2 { border: 0; margin: 0 0 .5rem; font-size: 1.6rem; }
.verdict-ptce { border-color: #1b7837; background: #e9f5ec; }
.verdict-en-devenir { border-color: #c77c02; background: #fff5e0; }
.verdict-pas-encore { border-color: #b2182b; background: #fdecee; }
.verdict-hors-champ { border-color: #5b5b57; background: #efefed; }
.verdict p { margin: .4rem 0; }
.eligibility { font-size: 1.05rem; }
.legend { color: #5b5b57; font-size: .95rem; }
table { width: 100%; border-collapse: collapse; margin: .5rem 0; }
th, td { text-align: left; vertical-align: top; padding: .5rem; border-bottom: 1px solid #e3e3de; }
th { background: #f4f4f1; }
td.icon { white-space: nowrap; }
td.score { text-align: right; font-weight: 600; }
.level { color: #5b5b57; font-size: .9rem; white-space: nowrap; }
.level-bloquant { color: #8a1c1c; }
blockquote { margin: 0 0 .25rem; font-style: italic; }
cite { display: block; color: #5b5b57; font-size: .9rem; font-style: normal; }
cite::before { content: "— "; }
figure.chart { margin: 1rem auto; max-width: 36rem; }
figure.chart img { display: block; width: 100%; height: auto; }
.answers dt { font-weight: 600; margin-top: .5rem; }
.answers dd { margin: 0 0 0 1rem; }
.notes { background: #f7f7ff; padding: .25rem 1rem .5rem; border-radius: .5rem; }
footer { max-width: 52rem; margin: 0 auto; padding: 1rem; color: #5b5b57; font-size: .9rem;
  text-align: center; }
@media (max-width: 40rem) {
  main { padding: .75rem; }
  table.criteria thead { display: none; }
  table.criteria tr { display: block; padding: .5rem 0; border-bottom: 1px solid #e3e3de; }
  table.criteria td { display: block; border: 0; padding: .15rem 0; }
}
@media print {
  @page { margin: 1.5cm; }
  body { background: #fff; font-size: 11pt; }
  main { max-width: none; padding: 0; }
  .verdict, .notes { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  tr, figure, .verdict, dl { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  figure.chart { max-width: 13cm; }
}
""".strip()
