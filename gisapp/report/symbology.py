"""Symbols of the planning map by role: colour, point symbol, z-order and label priority (no Flask).

Pure data shared by the web map (:mod:`gisapp.report.map_styles`) and print figures, so that a role
looks the same on screen, on paper and in every plan. The conventions follow the way Chinese
spatial-structure figures (规划结构图; 市级国土空间总体规划制图规范) draw a structure:

- 核 / 心 (``core``): red — a red star for a point, a red ring (thick red outline, light red fill)
  for a polygon.
- 轴 / 廊 / 带 (``axis``, ``corridor``, ``belt``): broad semi-transparent bands in one colour per
  role, with a thin outline of the same colour.
- 区 / 片区 / 组团 (``zone``): each zone of a plan its own categorical colour from
  :data:`ZONE_PALETTE` (Okabe–Ito, designed to stay distinct for the common forms of colour-vision
  deficiency), with a 2.5 px outline so that zone edges read differently from the 1 px grey town
  edges.
- 节点 (``node``): a filled circle; 平台 / 基地 / 园区 (``platform``): a square, or a diamond when the
  name says 基地 or 园 (a base or park).

Colours are CSS hex strings (``#rrggbb``); sizes are screen pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Okabe & Ito (2008) colour-blind-safe palette, in the order zones of one plan receive it
#: (red-orange ``#D55E00`` last: it is the nearest to the cores' red).
ZONE_PALETTE: tuple[str, ...] = (
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#E69F00",  # orange
    "#CC79A7",  # reddish purple
    "#0072B2",  # blue
    "#F0E442",  # yellow
    "#999999",  # grey
    "#D55E00",  # vermillion
)


@dataclass(frozen=True)
class RoleSymbol:
    """How one role is drawn.

    Attributes:
        colour: stroke (and default fill) colour, ``#rrggbb``.
        zh, en: the role's name (legend).
        point: point symbol: ``star``, ``circle``, ``square`` or ``diamond``.
        fill_opacity: polygon fill opacity (0…1) for official/schematic geometry.
        weight: outline width of polygons (px); lines are drawn ``weight + 6`` wide (a band).
        z_order: drawing order among structure features (higher on top).
        label_priority: label rank (1 first); cores and zones 1, bands 2, nodes/platforms 3.
        label_size: label font size (px).
    """

    colour: str
    zh: str
    en: str
    point: str
    fill_opacity: float
    weight: float
    z_order: int
    label_priority: int
    label_size: int


ROLE_SYMBOLS: dict[str, RoleSymbol] = {
    "core": RoleSymbol("#d7191c", "核心", "core", "star", 0.18, 3.5, 50, 1, 14),
    "axis": RoleSymbol("#c51b7d", "轴", "axis", "circle", 0.3, 1.5, 30, 2, 12),
    "corridor": RoleSymbol("#6a51a3", "廊", "corridor", "circle", 0.3, 1.5, 30, 2, 12),
    "belt": RoleSymbol("#e08214", "带", "belt", "circle", 0.3, 1.5, 30, 2, 12),
    "zone": RoleSymbol(ZONE_PALETTE[0], "区", "zone", "circle", 0.32, 2.5, 10, 1, 13),
    "node": RoleSymbol("#1f4e9c", "节点", "node", "circle", 0.3, 2.0, 40, 3, 11),
    "platform": RoleSymbol("#8c510a", "平台", "platform", "square", 0.3, 2.0, 40, 3, 11),
}
OTHER_SYMBOL = RoleSymbol("#616161", "其他", "other", "circle", 0.2, 2.0, 20, 3, 11)

#: Label priority of non-structure layers (after every structure role).
LABEL_PRIORITY_CONTROL = 3
LABEL_PRIORITY_TOWN = 4
LABEL_PRIORITY_BASE = 5
#: Point symbol radius (px) and the smallest gap kept between two spread symbols (px).
POINT_RADIUS = 6
POINT_SPACING = 15


def role_symbol(role: str) -> RoleSymbol:
    """Return the :class:`RoleSymbol` of a role key (:data:`OTHER_SYMBOL` for an unknown role)."""
    return ROLE_SYMBOLS.get(role, OTHER_SYMBOL)


def zone_colour(index: int) -> str:
    """Return the categorical colour of the ``index``-th zone of a plan (0-based; the palette cycles).

    Raises:
        ValueError: for a negative index.
    """
    if index < 0:
        raise ValueError(f"zone index must be >= 0, got {index}")
    return ZONE_PALETTE[index % len(ZONE_PALETTE)]


def point_symbol(role: str, name: str | None = None) -> str:
    """Return the point symbol of a feature: its role's, with platforms named 基地 / 园 as ``diamond``.

    Args:
        role: a role key; name: the feature's Chinese name (or None).

    Returns:
        ``star`` | ``circle`` | ``square`` | ``diamond``.
    """
    symbol = role_symbol(role).point
    if role == "platform" and name and ("基地" in name or "园" in name):
        return "diamond"
    return symbol
