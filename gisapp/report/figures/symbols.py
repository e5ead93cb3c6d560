"""The map's symbology, read for figures: role colours and point symbols, zone palette, basis styles.

The figure draws each role and basis as the map does (issue 12 §3). Roles come from
:mod:`gisapp.report.symbology` (``role_symbol``, ``point_symbol``, ``zone_colour``), else from
:mod:`gisapp.report.map_styles` ``ROLES``; the legend text of the geometry bases from ``BASES``
(symbology first, else map_styles). Both are shared with the web map.
Only values are read; matplotlib specifics (markers, dash tuples, hatch) are defined here.
"""

from __future__ import annotations

from types import ModuleType

#: Okabe & Ito (2008) colour-blind-safe categorical colours, used only when the map defines no palette.
OKABE_ITO = ("#56B4E9", "#009E73", "#E69F00", "#CC79A7", "#0072B2", "#F0E442", "#999999", "#D55E00")

#: matplotlib line styles by basis (the map: official solid, schematic dashed, illustrative dotted).
LINESTYLES = {"official": "solid", "schematic": (0, (5, 3)), "illustrative": (0, (1, 2))}
#: Hatch of illustrative areas (the map's hatched fill).
HATCH = "////"
#: matplotlib markers for the map's point symbols.
MARKERS = {"star": "*", "circle": "o", "square": "s", "diamond": "D"}
_FALLBACK_BASES = {
    "official": ("官方边界 · 实线", "official · solid"),
    "schematic": ("示意范围 · 虚线", "schematic · dashed"),
    "illustrative": ("示意图形，非官方 · 点线、斜线", "illustrative, not official · dotted, hatched"),
}


def _symbology() -> ModuleType | None:
    try:
        from gisapp.report import symbology
    except ImportError:
        return None
    return symbology if hasattr(symbology, "role_symbol") else None


def _map_styles() -> ModuleType:
    from gisapp.report import map_styles

    return map_styles


def role_colour(role: str) -> str:
    """The map's colour of a role (``#rrggbb``); unknown roles get the map's 'other' colour."""
    sym = _symbology()
    if sym is not None:
        return sym.role_symbol(role).colour
    s = _map_styles()
    return s.ROLES.get(role, s.OTHER_ROLE)[0]


def role_names(role: str) -> tuple[str, str]:
    """(Chinese, English) name of a role, as in the map's legend."""
    sym = _symbology()
    if sym is not None:
        rs = sym.role_symbol(role)
        return rs.zh, rs.en
    s = _map_styles()
    entry = s.ROLES.get(role, s.OTHER_ROLE)
    return entry[1], entry[2]


def marker(role: str, name: str | None) -> str:
    """matplotlib marker of a point feature: the map's point symbol (star, circle, square, diamond)."""
    sym = _symbology()
    if sym is not None:
        return MARKERS.get(sym.point_symbol(role, name), "o")
    return {"core": "*", "node": "o", "platform": "s"}.get(role, "o")


def basis_names(basis: str) -> tuple[str, str]:
    """(Chinese, English) legend text of a geometry basis, e.g. ('示意范围 · 虚线', 'schematic · dashed')."""
    sym = _symbology()
    bases = getattr(sym, "BASES", None) if sym is not None else None
    if bases is None:
        try:
            bases = _map_styles().BASES
        except ImportError:  # pragma: no cover - web package missing
            bases = _FALLBACK_BASES
    zh, en, *_ = bases.get(basis, _FALLBACK_BASES[basis])
    return zh, en


def zone_colour(index: int) -> str:
    """Categorical colour of the ``index``-th zone of a plan (the map's palette; Okabe–Ito otherwise)."""
    sym = _symbology()
    if sym is not None and hasattr(sym, "zone_colour"):
        return sym.zone_colour(index)
    return OKABE_ITO[index % len(OKABE_ITO)]


def control_colour() -> str:
    """Colour of control lines (the industrial red line), as on the map."""
    try:
        return str(_map_styles().CONTROL_COLOUR)
    except (ImportError, AttributeError):  # pragma: no cover
        return "#d7191c"
