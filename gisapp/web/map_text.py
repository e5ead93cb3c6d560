"""Small text helpers of the map: escaped tooltips and number formatting.

Every value that comes from a layer is user-controllable text (a property may hold ``<script>``);
the helpers here escape it with :mod:`markupsafe`, so the browser can insert their output as HTML.
"""

from __future__ import annotations

import math
from typing import Any

import jinja2
from markupsafe import Markup

from gisapp.core import paths
from gisapp.core.units import M2_PER_HA, M2_PER_KM2, M2_PER_MU

#: The map's Jinja environment: autoescaped, strict about undefined names (templates/map/).
TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(paths.templates_dir())),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def blank(value: Any) -> bool:
    """True for ``None``, NaN and blank strings (values the UI leaves out)."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def num(value: Any) -> float | None:
    """``value`` as a finite float, or None when it is missing or not a number."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def tooltip_html(name: Any, name_en: Any = "", note: Any = "") -> Markup:
    """Build a hover tooltip: Chinese name first, English name in parentheses, then a note.

    Args:
        name: Chinese name; name_en: English name; note: e.g. the role or "示意"; all escaped.

    Returns:
        safe HTML (:class:`markupsafe.Markup`), e.g. ``<strong>小榄镇</strong> <span>(Xiaolan Town)</span>``.
        ``"<script>"`` in any argument comes out as ``&lt;script&gt;``.
    """
    out = Markup("<strong>{}</strong>").format(name if not blank(name) else "—")
    if not blank(name_en):
        out += Markup(' <span class="en-name">({})</span>').format(name_en)
    if not blank(note):
        out += Markup(" · {}").format(note)
    return out


def area_units(m2: float) -> dict[str, str]:
    """Format one area in every unit the product reports.

    Args:
        m2: area in square metres.

    Returns:
        ``{"m2", "km2", "ha", "mu"}`` as display strings, e.g. for 1 km²:
        ``{"m2": "1,000,000 m²", "km2": "1.00 km²", "ha": "100.0 公顷", "mu": "1,500 亩"}``.
    """
    return {
        "m2": f"{m2:,.0f} m²",
        "km2": f"{m2 / M2_PER_KM2:,.2f} km²",
        "ha": f"{m2 / M2_PER_HA:,.1f} 公顷",
        "mu": f"{m2 / M2_PER_MU:,.0f} 亩",
    }


def pct(part: float, whole: float) -> str:
    """``part / whole`` as a percentage string with one decimal (``"—"`` when ``whole`` is 0)."""
    return f"{part / whole * 100:.1f} %" if whole else "—"
