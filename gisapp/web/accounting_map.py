"""The accounting page's map: the control line over its accounting units as an inline SVG, drawn
on the server (no script, so the page's Content-Security-Policy needs no exception).

Units are coloured by *status*: how much of the line lies in them (no line / a share of the
line in classes), the line itself in the map's control-line red, hatched and dotted when the
layer is illustrative. Geometry is projected to EPSG:4547 (metres, equal scale in x and y) and
simplified to about a third of a pixel, so the SVG stays small (tens of kB).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import shapely

from gisapp.store.layerstore import LayerStore

PROJECTED = "EPSG:4547"
#: Status classes of a unit by its share of the line (%): (lower bound, colour, Chinese, English).
CLASSES: tuple[tuple[float, str, str, str], ...] = (
    (10.0, "#fc9272", "≥ 10 % 的红线", "≥ 10 % of the line"),
    (5.0, "#fcbba1", "5–10 %", "5–10 %"),
    (0.05, "#fee5d9", "0.05–5 %", "0.05–5 %"),
)
NONE_COLOUR = "#f2f2f2"
LINE_COLOUR = "#d7191c"


@dataclass
class SvgUnit:
    """One unit on the map: SVG path data, fill, name, label position and its status text."""

    name: str
    short: str
    d: str
    fill: str
    status: str
    label_x: float
    label_y: float
    line_ha: float


def _path(geom: Any, tx: Any) -> str:
    polys = getattr(geom, "geoms", [geom])
    parts = []
    for poly in polys:
        if poly.geom_type != "Polygon":
            continue
        for ring in (poly.exterior, *poly.interiors):
            pts = [tx(x, y) for x, y in ring.coords]
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + "Z")
    return "".join(parts)


def unit_class(share_pct: float | None) -> tuple[str, str, str]:
    """(fill colour, Chinese status, English status) of a unit holding ``share_pct`` % of the line."""
    for lower, colour, zh, en in CLASSES:
        if share_pct is not None and share_pct >= lower:
            return colour, zh, en
    return NONE_COLOUR, "无红线（或不足 0.05 %）", "no line (or under 0.05 %)"


def build_map(
    store: LayerStore,
    line_layer: str,
    units_layer: str,
    unit_name_field: str,
    by_unit: list[dict[str, Any]],
    width: int = 520,
    height: int = 440,
) -> dict[str, Any]:
    """The SVG drawing data of the line over its units.

    Args:
        store: the layer store.
        line_layer, units_layer: layer ids of ``store`` (WGS 84).
        unit_name_field: the units' name column; by_unit: the report's per-unit rows (``unit``,
            ``planar_ha``, ``share_of_line_pct``).
        width, height: the SVG viewport in pixels; the drawing keeps equal scale in x and y.

    Returns:
        ``{"width", "height", "units": [SvgUnit], "line": path data, "classes": legend rows,
        "scale": {"x", "y", "px", "km"}}`` (a scale bar of a round number of km).
    """
    units = store.frame(units_layer).to_crs(PROJECTED)
    line = store.frame(line_layer).to_crs(PROJECTED)
    minx, miny, maxx, maxy = gpd.GeoSeries([units.union_all(), line.union_all()], crs=PROJECTED).total_bounds
    pad = 12
    k = min((width - 2 * pad) / (maxx - minx), (height - 2 * pad) / (maxy - miny))
    ox = pad + ((width - 2 * pad) - k * (maxx - minx)) / 2
    oy = pad + ((height - 2 * pad) - k * (maxy - miny)) / 2

    def tx(x: float, y: float) -> tuple[float, float]:
        return ox + (x - minx) * k, height - (oy + (y - miny) * k)

    tol = 0.35 / k  # a third of a pixel, in metres
    rows = {u["unit"]: u for u in by_unit}
    out_units = []
    for _, row in units.iterrows():
        name = str(row[unit_name_field])
        u = rows.get(name, {})
        share = u.get("share_of_line_pct")
        share_pct = float(share) if share is not None else None
        colour, zh, en = unit_class(share_pct)
        p = row.geometry.representative_point()
        lx, ly = tx(p.x, p.y)
        short = str(row.get("short_name") or name)
        ha = float(u.get("planar_ha") or 0.0)
        status = f"{name}: {zh} / {en}" + (f" — {ha:,.1f} 公顷 ({share_pct:.1f} %)" if ha >= 0.05 else "")
        out_units.append(SvgUnit(name, short, _path(row.geometry.simplify(tol), tx), colour, status, lx, ly, ha))
    line_geom = shapely.union_all(list(line.geometry)).simplify(tol)
    km = next(v for v in (20, 10, 5, 2, 1) if v * 1000 * k <= width * 0.3)
    legend = [{"colour": c, "zh": zh, "en": en} for _, c, zh, en in CLASSES]
    legend.append({"colour": NONE_COLOUR, "zh": "无红线", "en": "no line"})
    return {
        "width": width,
        "height": height,
        "units": out_units,
        "line": _path(line_geom, tx),
        "line_colour": LINE_COLOUR,
        "classes": legend,
        "scale": {"x": pad, "y": height - pad, "px": round(km * 1000 * k, 1), "km": km},
    }
