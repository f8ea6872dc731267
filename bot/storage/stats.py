"""Usage figures for the regional networks' reporting: as text (``ptce-bot stats``) and as a
PNG chart (``ptce-bot stats --chart FILE.png``).

The figures are counts only, no personal data (:func:`figures`). The chart is drawn with
matplotlib's object-oriented API on the Agg backend (no global figure registry), imported
only when a chart is asked for.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from bot.core.text import french_date
from bot.handoff.leads import CLOSED, NEW, TAKEN, WITHDRAWN
from bot.storage.db import Store

OUTCOMES = {"answer": "répondues", "suggest": "choix proposés", "none": "sans réponse",
            "out_of_scope": "hors sujet", "smalltalk": "politesses",
            "local": "pôles d'une région"}
STATUSES = {"active": "en cours", "paused": "en pause", "done": "terminés",
            "abandoned": "abandonnés"}
VERDICTS = {"ptce": "PTCE", "en_devenir": "PTCE en devenir",
            "pas_encore": "pas (encore) un PTCE", "hors_champ": "hors du champ"}

_DPI = 100
_WIDTH = 12.0  # inches: 1200 px
_BAR = "#2166ac"
# Leads by status, in the order they live: new, taken in charge, closed, withdrawn.
_LEAD_COLOURS = {NEW: "#2166ac", TAKEN: "#e08214", CLOSED: "#1b7837", WITHDRAWN: "#999999"}
_OTHER_COLOUR = "#6a3d9a"
_NO_DATA = "aucune donnée"


Rows = Sequence[Mapping[str, Any]]


def figures(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Counts for the regional networks' reporting (no personal data)."""
    def rows(sql: str) -> list[dict[str, Any]]:
        return list(store.db.query(sql))

    return {
        "users": rows("SELECT COUNT(*) AS n, SUM(active) AS active FROM users"),
        "questions": rows("SELECT outcome, COUNT(*) AS n FROM questions GROUP BY outcome "
                          "ORDER BY n DESC"),
        "questionnaires": rows("SELECT status, COUNT(*) AS n FROM sessions GROUP BY status "
                               "ORDER BY n DESC"),
        "verdicts": rows("SELECT verdict, COUNT(*) AS n FROM sessions WHERE status = 'done' "
                         "GROUP BY verdict ORDER BY n DESC"),
        "leads": rows("SELECT region, status, COUNT(*) AS n FROM leads GROUP BY region, "
                      "status ORDER BY region, status"),
    }


def users(stats: Mapping[str, Rows]) -> tuple[int, int]:
    """Telegram users: how many, and how many still reachable (not blocked)."""
    row = stats["users"][0] if stats["users"] else {}
    return int(row.get("n") or 0), int(row.get("active") or 0)


def counts(rows: Rows, key: str, labels: Mapping[str, str]) -> list[tuple[str, int]]:
    """``(French label, count)`` for each row, in the store's order (most frequent first)."""
    return [(labels.get(row[key], str(row[key])), int(row["n"])) for row in rows]


def text_lines(stats: Mapping[str, Rows]) -> list[str]:
    """The figures as the lines ``ptce-bot stats`` prints."""
    total, active = users(stats)

    def joined(pairs: list[tuple[str, int]], nothing: str) -> str:
        return ", ".join(f"{label} {n}" for label, n in pairs) or nothing

    lines = [
        f"Utilisateurs Telegram : {total} (dont {active} actifs)",
        "Questions : " + joined(counts(stats["questions"], "outcome", OUTCOMES), "aucune"),
        "Questionnaires : " + joined(counts(stats["questionnaires"], "status", STATUSES),
                                     "aucun"),
        "Verdicts : " + joined(counts(stats["verdicts"], "verdict", VERDICTS), "aucun"),
        "Demandes par région :",
    ]
    lines += [f"  {row['region']:<28} {row['status']:<15} {row['n']}" for row in stats["leads"]]
    if not stats["leads"]:
        lines.append("  aucune")
    return lines


def chart_png(stats: Mapping[str, Rows], day: date) -> bytes:
    """The figures as a PNG chart, 1200 px wide, titled with ``day``: Telegram users,
    questions by outcome, questionnaires by status, verdicts, and leads per region stacked by
    status. An empty database gives a chart that says « aucune donnée » in each panel."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    regions = sorted({str(row["region"]) for row in stats["leads"]})
    leads_height = max(2.5, 0.45 * len(regions) + 1.5)
    # Constrained layout leaves room for long labels (« Provence-Alpes-Côte d'Azur »).
    fig = Figure(figsize=(_WIDTH, 8.5 + leads_height), dpi=_DPI, facecolor="white",
                 layout="constrained")
    engine = fig.get_layout_engine()
    assert isinstance(engine, ConstrainedLayoutEngine)
    engine.set(h_pad=0.15, w_pad=0.15, hspace=0.08, wspace=0.08)
    FigureCanvasAgg(fig)
    try:
        fig.suptitle(f"Assistant PTCE : chiffres d'usage au {french_date(day.isoformat())}",
                     fontsize=20, fontweight="bold")
        grid = fig.add_gridspec(3, 2, height_ratios=[4, 4, leads_height])
        total, active = users(stats)
        _bars(fig.add_subplot(grid[0, 0]), "Utilisateurs Telegram",
              [("inscrits", total), ("actifs", active)] if total else [])
        _bars(fig.add_subplot(grid[0, 1]), "Questions posées",
              counts(stats["questions"], "outcome", OUTCOMES))
        _bars(fig.add_subplot(grid[1, 0]), "Questionnaires",
              counts(stats["questionnaires"], "status", STATUSES))
        _bars(fig.add_subplot(grid[1, 1]), "Verdicts (questionnaires terminés)",
              counts(stats["verdicts"], "verdict", VERDICTS))
        _leads(fig.add_subplot(grid[2, :]), stats["leads"], regions)
        return png_bytes(fig, _DPI)
    finally:
        fig.clear()


def png_bytes(fig: Any, dpi: int) -> bytes:
    """A matplotlib figure as PNG bytes, without the software name in its metadata (the same
    figure gives the same bytes)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white", metadata={"Software": None})
    return buffer.getvalue()


def _bars(ax: Any, title: str, pairs: list[tuple[str, int]]) -> None:
    """Horizontal bars, the largest on top, each with its count written at its end."""
    ax.set_title(title, fontsize=15, fontweight="bold", loc="left")
    if not pairs:
        _empty(ax)
        return
    labels = [label for label, _ in reversed(pairs)]
    values = [n for _, n in reversed(pairs)]
    bars = ax.barh(labels, values, color=_BAR)
    ax.bar_label(bars, padding=4, fontsize=13)
    _tidy(ax, max(values))


def _leads(ax: Any, rows: Rows, regions: list[str]) -> None:
    """Leads per region, one bar per region stacked by status, with a legend of statuses."""
    ax.set_title("Demandes de mise en relation, par région et par statut", fontsize=15,
                 fontweight="bold", loc="left")
    if not regions:
        _empty(ax)
        return
    present = {str(row["status"]) for row in rows}
    statuses = [s for s in _LEAD_COLOURS if s in present] + sorted(present - set(_LEAD_COLOURS))
    table = {(str(row["region"]), str(row["status"])): int(row["n"]) for row in rows}
    order = list(reversed(regions))  # alphabetical from the top
    left = [0] * len(order)
    for status in statuses:
        values = [table.get((region, status), 0) for region in order]
        ax.barh(order, values, left=left, label=status,
                color=_LEAD_COLOURS.get(status, _OTHER_COLOUR))
        left = [a + b for a, b in zip(left, values, strict=True)]
    for y, total in enumerate(left):
        ax.text(total, y, f" {total}", va="center", fontsize=13)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=13, frameon=False,
              title="Statut", title_fontsize=13, alignment="left")
    _tidy(ax, max(left))


def _tidy(ax: Any, largest: int) -> None:
    ax.set_xlim(0, largest * 1.2 + 1)
    ax.tick_params(labelsize=13)
    ax.xaxis.get_major_locator().set_params(integer=True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _empty(ax: Any) -> None:
    ax.text(0.5, 0.5, _NO_DATA, ha="center", va="center", fontsize=14, color="#666666",
            transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
