"""The one parser of bounding boxes (``bbox`` query values and ``--bbox`` options).

Every entry point that takes a box goes through :func:`parse_bbox`; what differs between them is
stated by its arguments, not by another parser: the map and figures take lon/lat (ranges checked),
the export takes a box in any CRS, OGC API – Features allows 6 numbers and a box across the
antimeridian (OGC 17-069r4 §7.15.3).
"""

from __future__ import annotations

import math

from gisapp.core.errors import InputError


def parse_bbox(
    text: str | None,
    *,
    lonlat: bool = False,
    strict: bool = False,
    allow_3d: bool = False,
    wrap_x: bool = False,
    side_deg: tuple[float, float] | None = None,
) -> tuple[float, ...] | None:
    """Parse ``minx,miny,maxx,maxy`` (or ``minx,miny,minz,maxx,maxy,maxz`` with ``allow_3d``).

    Args:
        text: the value; None or blank → None.
        lonlat: the numbers are WGS 84 degrees: lon within −180…180, lat within −90…90.
        strict: min < max (else min ≤ max).
        allow_3d: also accept 6 numbers.
        wrap_x: x may decrease (a box across the antimeridian): only y (and z) are ordered.
        side_deg: ``(smallest, largest)`` side in degrees (with ``lonlat``), e.g. ``(0.001, 20)``.

    Returns:
        the numbers, or None.

    Raises:
        InputError: ``invalid_bbox`` (HTTP 400) naming the rule that failed.
    """
    if text is None or not text.strip():
        return None
    try:
        nums = tuple(float(v) for v in text.split(","))
    except ValueError:
        nums = ()
    counts = (4, 6) if allow_3d else (4,)
    form = "minx,miny,maxx,maxy" + (" (or 6 numbers with z)" if allow_3d else "")
    if len(nums) not in counts or not all(math.isfinite(v) for v in nums):
        raise InputError(f"bbox must be {counts[0]} finite numbers: {form}", code="invalid_bbox")
    half = len(nums) // 2
    first = 1 if wrap_x else 0
    ordered = all((nums[i] < nums[i + half]) if strict else (nums[i] <= nums[i + half]) for i in range(first, half))
    if not ordered:
        rule = "min < max" if strict else "min <= max"
        raise InputError(f"bbox must be {form} with {rule}{' (x may wrap)' if wrap_x else ''}", code="invalid_bbox")
    if lonlat:
        w, s, e, n = nums[0], nums[1], nums[half], nums[half + 1]
        if not (-180 <= min(w, e) and max(w, e) <= 180 and -90 <= s and n <= 90):
            raise InputError("bbox must lie within lon -180..180, lat -90..90 (WGS 84 degrees)", code="invalid_bbox")
        if side_deg and not (side_deg[0] <= e - w <= side_deg[1] and side_deg[0] <= n - s <= side_deg[1]):
            raise InputError(
                f"bbox sides must be {side_deg[0]}° to {side_deg[1]}° (W,S,E,N in degrees)", code="invalid_bbox"
            )
    return nums
