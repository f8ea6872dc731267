"""The questionnaire's profile as a radar chart (PNG), drawn with Pillow.

What does not change from one founder to the next (rings, axes, labels, legend) is drawn once
per set of objectives (:class:`_Template`); each chart then draws its polygon, points and
scores over a copy. Lines and text are drawn at twice the size and reduced, which smooths
their edges as a vector renderer would. A chart takes about 25 ms and 30 MB less than the
same picture from matplotlib, in a drawing process that exists for it.
"""

from __future__ import annotations

import io
import math
import textwrap
import threading
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from bot.core.text import french_date
from bot.qualification.fonts import font_files, printable
from bot.qualification.results import ObjectiveScore, Words

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

# One colour per general objective, in order of appearance (colour-blind friendly, dark enough
# to read as text on white; no red, which would read as "bad").
_GENERAL_COLOURS = ("#1b7837", "#2166ac", "#8c510a")
_POLYGON = (106, 61, 154)  # #6a3d9a
_GRID = "#b0b0b0"
_UNEXAMINED = "#8a8a85"
_SUBTITLE = "#444444"

# Geometry, in pixels of the final picture (1000 × 1000, readable on a phone).
_SIZE = 1000
_CENTRE = (500, 510)
_RADIUS = 200  # the circle of 100
_LABEL_RADIUS = 228  # where the objectives' names start
_LABEL_PX = 29
_SCORE_PX = 29
_SMALL_PX = 24  # the subtitle and the legend
_TITLE_PX = 39
_LABEL_WIDTH = 16  # characters per line of an objective's name
_SCALE = 2  # drawn at twice the size, then reduced: smooth edges
# The square around the circle that each chart redraws (markers on the rim included).
_PLOT = (284, 294, 716, 726)
_PNG_COMPRESSION = 1  # zlib level: fastest; the palette already makes the file small


def draw_radar_png(objectives: Sequence[ObjectiveScore], project: str, day: str,
                   words: Words) -> bytes:
    """Draw the objectives' scores (0–100) as a radar chart and return it as PNG bytes.

    1000 × 1000 px with large text, to stay readable on a phone: one axis per objective,
    starting at the top and turning clockwise; axis names coloured by general objective, with
    a legend; circles at 25, 50, 75 and 100; the score written next to each point. An
    objective not examined (too few answers) has no point: its axis says « non examiné » in
    grey, and the polygon joins the others. The project's name and the date head the
    picture, which may travel alone. ``words`` are the chart's messages (``chart_…``, see
    :attr:`Result.words <bot.qualification.results.Result.words>`). The same input gives the
    same bytes.

    Raises ``ValueError`` with fewer than three objectives (no polygon to draw).
    """
    if len(objectives) < 3:
        raise ValueError("Un graphique radar demande au moins trois objectifs.")
    key = tuple((o.label, o.general, o.examined) for o in objectives)
    wording = dict(words)
    with _DRAWING:  # FreeType's fonts are not drawn with from two threads at once
        template = _template(key, wording["chart_legend"], wording["chart_unexamined"])
        return template.draw(objectives, project, day, wording)


_DRAWING = threading.Lock()


@lru_cache(maxsize=2)  # about 5 MB each; most founders' objectives are all examined
def _template(key: tuple[tuple[str, str, bool], ...], legend: str, unexamined: str
              ) -> _Template:
    return _Template(key, legend, unexamined)


class _Template:
    """The parts of the radar common to every chart of a set of objectives, drawn once.
    Read-only once built: each chart is drawn on copies."""

    def __init__(self, key: tuple[tuple[str, str, bool], ...], legend: str,
                 unexamined: str) -> None:
        from PIL import Image, ImageDraw

        self.colours = _general_colours(general for _, general, _ in key)
        self.angles = [2 * math.pi * i / len(key) for i in range(len(key))]
        big = Image.new("RGB", (_SIZE * _SCALE, _SIZE * _SCALE), "white")
        draw = ImageDraw.Draw(big)
        for ring in (25, 50, 75, 100):
            draw.ellipse(_scaled(_box(_CENTRE, _RADIUS * ring / 100)), outline=_GRID,
                         width=_SCALE)
        for angle in self.angles:
            draw.line(_scaled((_CENTRE, _point(angle, _RADIUS))), fill=_GRID, width=_SCALE)
        bold = _font("B", _LABEL_PX * _SCALE)
        for angle, (label, general, examined) in zip(self.angles, key, strict=True):
            text = _wrap(printable(label, "B")) + ("" if examined else f"\n({unexamined})")
            draw.multiline_text(_scaled(_point(angle, _LABEL_RADIUS)), text, font=bold,
                                fill=self.colours[general] if examined else _UNEXAMINED,
                                anchor=_anchor(angle), align="center",
                                spacing=round(0.15 * _LABEL_PX * _SCALE))
        if not any(examined for _, _, examined in key):
            draw.text(_scaled(_CENTRE), unexamined, font=_font("", _LABEL_PX * _SCALE),
                      fill=_UNEXAMINED, anchor="mm")
        self._legend(draw, legend)
        # The circle's square stays at twice the size: each chart draws its polygon there.
        self.plot = big.crop(_scaled(_PLOT))
        self.picture = big.reduce(_SCALE)

    def _legend(self, draw: ImageDraw.ImageDraw, title: str) -> None:
        """``title`` (« Objectifs généraux ») and a coloured square per general objective, at
        the foot."""
        font = _font("", _SMALL_PX * _SCALE)
        row, square, gap = 37 * _SCALE, 26 * _SCALE, 18 * _SCALE
        names = [printable(general) for general in self.colours]
        width = square + gap + max(draw.textlength(name, font=font) for name in names)
        left = (_SIZE * _SCALE - width) / 2
        top = (_SIZE - 12) * _SCALE - row * len(names)
        draw.text((_SIZE * _SCALE / 2, top - row / 2), printable(title), font=font,
                  fill="black", anchor="mm")
        for i, (name, colour) in enumerate(zip(names, self.colours.values(), strict=True)):
            middle = top + row * i + row / 2
            draw.rectangle((left, middle - square / 2, left + square, middle + square / 2),
                           fill=colour)
            draw.text((left + square + gap, middle), name, font=font, fill="black",
                      anchor="lm")

    def draw(self, objectives: Sequence[ObjectiveScore], project: str, day: str,
             words: Mapping[str, str]) -> bytes:
        """This founder's chart: the kept picture, then the polygon, points, scores, title."""
        from PIL import Image, ImageDraw

        plot = self.plot.copy()
        draw = ImageDraw.Draw(plot, "RGBA")  # RGBA colours blend into the picture
        origin = (_PLOT[0], _PLOT[1])
        scores = [min(100, max(0, int(objective.score))) for objective in objectives]
        shown = [(angle, score, self.colours[objective.general]) for angle, score, objective
                 in zip(self.angles, scores, objectives, strict=True) if objective.examined]
        points = [_scaled(_point(angle, _RADIUS * score / 100), origin)
                  for angle, score, _ in shown]
        if len(points) >= 3:
            draw.polygon(points, fill=(*_POLYGON, 64))
            draw.line([*points, points[0]], fill=_POLYGON, width=4 * _SCALE, joint="curve")
        bold = _font("B", _SCORE_PX * _SCALE)
        for (angle, score, colour), point in zip(shown, points, strict=True):
            draw.ellipse(_box(point, 7 * _SCALE), fill=colour, outline="white",
                         width=2 * _SCALE)
            where = _scaled(_point(angle, _RADIUS * _score_radius(score) / 100), origin)
            left, top, right, bottom = draw.textbbox(where, str(score), font=bold, anchor="mm")
            pad = 0.15 * _SCORE_PX * _SCALE
            draw.rounded_rectangle((left - pad, top - pad, right + pad, bottom + pad),
                                   radius=pad * 2, fill=(255, 255, 255, 217))
            draw.text(where, str(score), font=bold, fill=colour, anchor="mm")
        picture = self.picture.copy()
        picture.paste(plot.reduce(_SCALE), origin)
        self._heading(ImageDraw.Draw(picture), project, day, words)
        # A few flat colours and their anti-aliasing: 256 colours keep the picture, and the
        # file is a third of the size, encoded twice as fast.
        palette = picture.quantize(colors=256, method=Image.Quantize.FASTOCTREE)
        buffer = io.BytesIO()
        palette.save(buffer, format="PNG", compress_level=_PNG_COMPRESSION)
        return buffer.getvalue()

    @staticmethod
    def _heading(draw: ImageDraw.ImageDraw, project: str, day: str,
                 words: Mapping[str, str]) -> None:
        font = _font("B", _TITLE_PX)
        project = " ".join(printable(project, "B").split())
        heading = (words["chart_title"].format(project=project) if project
                   else words["chart_title_unnamed"])
        while draw.textlength(heading, font=font) > _SIZE - 60:  # a long name is cut
            project = project[:-1]
            heading = words["chart_title"].format(project=f"{project.rstrip()}…")
        draw.text((_SIZE / 2, 25), printable(heading, "B"), font=font, fill="black",
                  anchor="ma")
        subtitle = printable(words["chart_subtitle"])
        if day:
            subtitle += f" · {french_date(day)}"
        draw.text((_SIZE / 2, 90), subtitle, font=_font("", _SMALL_PX), fill=_SUBTITLE,
                  anchor="ms")


@lru_cache(maxsize=8)
def _font(style: str, size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.truetype(str(font_files()[style]), size)


def _point(angle: float, radius: float) -> tuple[float, float]:
    """The point at ``radius`` pixels from the centre, ``angle`` clockwise from the top."""
    return _CENTRE[0] + radius * math.sin(angle), _CENTRE[1] - radius * math.cos(angle)


def _scaled(coordinates: tuple, origin: tuple[int, int] = (0, 0)) -> tuple:
    """Coordinates (a point, a pair of points or a box) in the picture drawn at twice the
    size, from ``origin`` (the corner of the square around the circle)."""
    if isinstance(coordinates[0], tuple):
        return tuple(_scaled(point, origin) for point in coordinates)
    return tuple((value - origin[i % 2]) * _SCALE for i, value in enumerate(coordinates))


def _box(centre: Sequence[float], radius: float) -> tuple[float, float, float, float]:
    x, y = centre
    return x - radius, y - radius, x + radius, y + radius


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
    """Where to write a score (0–100): just outside its point, inside the circle near the
    rim."""
    return score - 16 if score > 78 else max(score + 15, 22)


def _anchor(angle: float) -> str:
    """Pillow's anchor of an axis name: away from the centre, horizontally (left, middle,
    right) and vertically (above the top axes, below the bottom ones)."""
    x, y = math.sin(angle), math.cos(angle)
    horizontal = "m" if abs(x) < 0.2 else "l" if x > 0 else "r"
    vertical = "d" if y > 0.5 else "a" if y < -0.5 else "m"
    return horizontal + vertical
