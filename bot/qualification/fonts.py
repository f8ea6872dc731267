"""The fonts of the chart and the report: DejaVu Sans, regular, bold and oblique.

The files are those matplotlib ships (always installed with the bot, for the usage chart);
they are found without importing matplotlib, whose import alone costs about 40 MB.
"""

from __future__ import annotations

import importlib.util
import unicodedata
from functools import lru_cache
from pathlib import Path

# Icons of the chat that DejaVu Sans does not have, and their printed equivalents; other
# characters missing from the font are dropped.
_PRINTED = str.maketrans({"✅": "✔", "❌": "✘", "➖": "–", "\ufe0f": None, "🧭": None})


@lru_cache(maxsize=1)
def font_files() -> dict[str, Path]:
    """DejaVu Sans by style: ``""`` (regular), ``"B"`` (bold), ``"I"`` (oblique)."""
    folder = _matplotlib_data() / "fonts" / "ttf"
    return {"": folder / "DejaVuSans.ttf", "B": folder / "DejaVuSans-Bold.ttf",
            "I": folder / "DejaVuSans-Oblique.ttf"}


def _matplotlib_data() -> Path:
    spec = importlib.util.find_spec("matplotlib")  # finds the package, does not import it
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if (Path(location) / "mpl-data").is_dir():
                return Path(location) / "mpl-data"
    import matplotlib  # an unusual installation: matplotlib knows

    return Path(matplotlib.get_data_path())


@lru_cache(maxsize=4)
def font_cmap(style: str = "") -> frozenset[int]:
    """The code points the font of ``style`` can draw."""
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(str(font_files()[style]), lazy=True).getBestCmap())


def printable(text: str, style: str = "") -> str:
    """``text`` without what the font cannot draw: control characters, emoji missing from
    it (the chat's ✅ ❌ ➖ become ✔ ✘ –)."""
    cmap = font_cmap(style)
    printed = text.translate(_PRINTED)
    return "".join(c for c in printed if c in "\n\t" or (ord(c) in cmap
                                                        and not unicodedata.category(c)
                                                        .startswith("C")))
