"""Area units used by Chinese land administration.

1 亩 (mu) = 10000/15 m² exactly (≈ 666.67 m²); 1 公顷 (ha) = 10 000 m²; 1 km² = 100 公顷 = 1500 亩.
Source: the statutory definition of the 市亩, as restated in ../shared/DESIGN.md.
"""

from __future__ import annotations

M2_PER_MU: float = 10000.0 / 15.0
M2_PER_HA: float = 10_000.0
M2_PER_KM2: float = 1_000_000.0


def m2_to_km2(m2: float) -> float:
    """Convert square metres to square kilometres."""
    return m2 / M2_PER_KM2


def m2_to_ha(m2: float) -> float:
    """Convert square metres to 公顷 (hectares)."""
    return m2 / M2_PER_HA


def m2_to_mu(m2: float) -> float:
    """Convert square metres to 亩 (mu, exactly 10000/15 m²)."""
    return m2 / M2_PER_MU


def area_fields(m2: float, prefix: str = "area", digits: int = 4) -> dict[str, float]:
    """Express one area in every unit the product reports.

    Args:
        m2: area in square metres (planar EPSG:4547 or geodesic; the caller knows which).
        prefix: field-name prefix, e.g. ``"area"`` → ``area_m2, area_km2, area_ha, area_mu``.
        digits: decimals kept for km²; m² keeps 2, 公顷 and 亩 keep ``digits``.

    Returns:
        ``{f"{prefix}_m2", f"{prefix}_km2", f"{prefix}_ha", f"{prefix}_mu"}`` as floats.
    """
    return {
        f"{prefix}_m2": round(m2, 2),
        f"{prefix}_km2": round(m2_to_km2(m2), digits + 2),
        f"{prefix}_ha": round(m2_to_ha(m2), digits),
        f"{prefix}_mu": round(m2_to_mu(m2), digits),
    }


#: Square metres per unit, for thresholds and user-reported figures (``m2``, ``ha`` = 公顷, ``km2``, ``mu`` = 亩).
M2_PER_UNIT: dict[str, float] = {"m2": 1.0, "ha": M2_PER_HA, "km2": M2_PER_KM2, "mu": M2_PER_MU}


def to_m2(value: float, unit: str) -> float:
    """Convert an area in ``unit`` (``m2``, ``ha``, ``km2``, ``mu``) to square metres.

    Args:
        value: the area.
        unit: one of :data:`M2_PER_UNIT` (亩 = exactly 10000/15 m²).

    Returns:
        the area in m².

    Raises:
        KeyError: for an unknown unit (callers validate units when they read them).
    """
    return value * M2_PER_UNIT[unit]


def from_m2(m2: float, unit: str) -> float:
    """Convert square metres to ``unit`` (``m2``, ``ha``, ``km2``, ``mu``); see :func:`to_m2`."""
    return m2 / M2_PER_UNIT[unit]
