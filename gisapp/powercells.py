"""Capacity-constrained power diagrams: tile a polygon into cells of prescribed areas.

A power diagram (weighted Voronoi diagram) assigns a point ``x`` to the site ``i`` that
minimises ``|x - p_i|² - w_i``. Its cells are convex polygons bounded by straight lines, so a
diagram clipped to a region tiles the region exactly, with no gap and no overlap. Adjusting
the weights grows or shrinks cells until each has its target area (Aurenhammer, Hoffmann
and Aronov, "Minkowski-type theorems and least-squares clustering", Algorithmica 20, 1998).

Everything here works in a projected CRS in metres; :mod:`gisapp.towns` calls it in EPSG:4547.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry


def _clip_halfplane(poly: np.ndarray, normal: np.ndarray, offset: float) -> np.ndarray:
    """Clip a convex polygon (k×2 vertices) to ``{x : normal·x <= offset}`` (Sutherland–Hodgman)."""
    if len(poly) == 0:
        return poly
    side = poly @ normal - offset
    out: list[np.ndarray] = []
    k = len(poly)
    for a in range(k):
        b = (a + 1) % k
        pa, pb, sa, sb = poly[a], poly[b], side[a], side[b]
        if sa <= 0:
            out.append(pa)
        if (sa < 0 < sb) or (sb < 0 < sa):
            t = sa / (sa - sb)
            out.append(pa + t * (pb - pa))
    return np.array(out) if out else np.empty((0, 2))


def power_cells(sites: np.ndarray, weights: np.ndarray, box: tuple[float, float, float, float]) -> list[Polygon]:
    """Return the power cell of every site inside an axis-aligned box.

    Args:
        sites: n×2 array of site coordinates (metres).
        weights: n weights (m²); a larger weight grows the cell.
        box: (minx, miny, maxx, maxy) enclosing everything of interest.

    Returns:
        n convex polygons (possibly empty) in the same coordinates.
    """
    minx, miny, maxx, maxy = box
    start = np.array([[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy]], dtype=float)
    sq = (sites**2).sum(axis=1)
    cells: list[Polygon] = []
    for i in range(len(sites)):
        poly = start
        for j in range(len(sites)):
            if i == j:
                continue
            normal = 2.0 * (sites[j] - sites[i])
            offset = sq[j] - sq[i] - weights[j] + weights[i]
            poly = _clip_halfplane(poly, normal, offset)
            if len(poly) == 0:
                break
        cells.append(Polygon(poly) if len(poly) >= 3 else Polygon())
    return cells


def _parts(geom: BaseGeometry) -> list[Polygon]:
    if geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon) and not g.is_empty]


def reattach_fragments(cells: list[BaseGeometry], seeds: np.ndarray) -> list[BaseGeometry]:
    """Give every detached fragment of a cell to the neighbour it shares most boundary with.

    Clipping convex cells to a non-convex region can split a cell; the part holding the
    cell's seed (or the largest part) stays, the other parts join the cell they touch most.
    The union of the cells is unchanged, so the tiling stays gap- and overlap-free.

    Args:
        cells: polygons (one per seed) tiling a region.
        seeds: n×2 seed coordinates; ``seeds[i]`` should lie in ``cells[i]``.

    Returns:
        the cells, each a Polygon where the geometry allows, else a MultiPolygon.
    """
    main: list[BaseGeometry] = []
    orphans: list[Polygon] = []
    for i, cell in enumerate(cells):
        parts = _parts(cell)
        if not parts:
            main.append(Polygon())
            continue
        seed = shapely.Point(seeds[i])
        keep = next((p for p in parts if p.covers(seed)), max(parts, key=lambda p: p.area))
        main.append(keep)
        orphans.extend(p for p in parts if p is not keep)
    extra: list[list[Polygon]] = [[] for _ in cells]
    for frag in orphans:
        shared = [frag.boundary.intersection(m.boundary).length if not m.is_empty else 0.0 for m in main]
        extra[int(np.argmax(shared))].append(frag)
    return [shapely.union_all([main[i], *extra[i]]) if extra[i] else main[i] for i in range(len(cells))]


def attach_seeds(cells: list[BaseGeometry], seeds: np.ndarray, width: float = 300.0) -> list[BaseGeometry]:
    """Make every cell contain its seed by giving it a corridor from its nearest point to the seed.

    The corridor (``width`` metres wide, round-ended) is taken from the cells it crosses, so the
    union of the cells is unchanged. Cells that already contain their seed are untouched.

    Args:
        cells: polygons (one per seed) tiling a region, projected (metres).
        seeds: n×2 seed coordinates.
        width: corridor width in metres.

    Returns:
        the cells, fragments re-attached (see :func:`reattach_fragments`).
    """
    cells = list(cells)
    region = shapely.union_all(cells)
    changed = False
    for i, cell in enumerate(cells):
        seed = shapely.Point(seeds[i])
        if cell.is_empty or cell.covers(seed):
            continue
        line = shapely.shortest_line(cell, seed)
        patch = shapely.intersection(line.buffer(width / 2.0), region)
        for j in range(len(cells)):
            cells[j] = cells[j].union(patch) if j == i else cells[j].difference(patch)
        changed = True
    return reattach_fragments(cells, seeds) if changed else cells


@dataclass
class PowerTiling:
    """Result of :func:`tile_by_area`: the cells, the final weights and the fit."""

    cells: list[BaseGeometry]
    weights: np.ndarray
    sites: np.ndarray
    areas: np.ndarray
    iterations: int
    max_relative_error: float

    def seeds_outside(self, seeds: np.ndarray) -> list[int]:
        """Return the indices of seeds that do not lie inside their own cell."""
        return [i for i, (c, s) in enumerate(zip(self.cells, seeds)) if not c.covers(shapely.Point(s))]


def _fit_weights(
    region: Polygon | MultiPolygon,
    sites: np.ndarray,
    seeds: np.ndarray,
    targets: np.ndarray,
    weights: np.ndarray,
    tolerance: float,
    max_iterations: int,
) -> PowerTiling:
    minx, miny, maxx, maxy = region.bounds
    pad = max(maxx - minx, maxy - miny)
    box = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    step = 0.5
    best: PowerTiling | None = None
    for it in range(max_iterations):
        raw = power_cells(sites, weights, box)
        clipped = shapely.intersection(np.array(raw, dtype=object), region)
        cells = attach_seeds(reattach_fragments(list(clipped), seeds), seeds)
        areas = shapely.area(np.array(cells, dtype=object))
        err = float((np.abs(areas - targets) / targets).max())
        if best is None or err < best.max_relative_error:
            best = PowerTiling(cells, weights.copy(), sites.copy(), areas, it, err)
            step = min(step * 1.2, 0.5)
        elif err > 1.5 * best.max_relative_error:
            # Overshoot: go back to the best weights and take smaller steps from there.
            step *= 0.5
            weights = best.weights.copy()
            continue
        if err < tolerance:
            break
        # Newton-like step: d(area_i)/d(w_i) ≈ perimeter_i / (2 · mean neighbour distance).
        perim = np.maximum(shapely.length(np.array(cells, dtype=object)), 1.0)
        spacing = 2.0 * np.sqrt(np.maximum(areas, targets) / np.pi)
        weights = weights + step * (targets - areas) * (2.0 * spacing / perim)
    assert best is not None
    return best


def tile_by_area(
    region: Polygon | MultiPolygon,
    seeds: np.ndarray,
    targets: np.ndarray,
    tolerance: float = 0.002,
    max_iterations: int = 1000,
    max_rounds: int = 3,
) -> PowerTiling:
    """Tile ``region`` into one cell per seed, each containing its seed, with target areas.

    The generators of the power diagram start at the seeds. When a fitted cell misses its
    seed, its generator is pushed towards the seed (by 1.5 × the miss distance plus 100 m)
    and the weights are fitted again, up to ``max_rounds`` times; a seed still outside is
    then joined to its cell by a 300 m corridor (:func:`attach_seeds`), inside the fit, so
    the areas still meet their targets.

    Args:
        region: the polygon to tile (projected, metres).
        seeds: n×2 points inside ``region`` that must lie inside their own cells.
        targets: n target areas in m²; they should sum to ``region.area``.
        tolerance: stop fitting when every ``|area - target| / target`` is below this.
        max_iterations: weight updates per round (the best fit of the round is kept).
        max_rounds: generator moves before giving up on containment.

    Returns:
        a :class:`PowerTiling`; cells are Polygons or MultiPolygons in the region's
        coordinates, covering it without gap or overlap (up to floating-point noise).
        Check :attr:`PowerTiling.seeds_outside` for any seed left outside its cell.
    """
    shapely.prepare(region)
    sites = np.asarray(seeds, dtype=float).copy()
    weights = np.zeros(len(sites))
    result = _fit_weights(region, sites, seeds, targets, weights, tolerance, max_iterations)
    for _ in range(max_rounds):
        missing = result.seeds_outside(seeds)
        if not missing:
            break
        sites = result.sites.copy()
        for i in missing:
            cell = result.cells[i]
            if cell.is_empty:
                sites[i] = np.asarray(seeds[i], dtype=float)
                continue
            near = shapely.shortest_line(cell, shapely.Point(seeds[i])).coords[0]
            miss = np.asarray(seeds[i]) - np.asarray(near)
            dist = float(np.hypot(*miss))
            sites[i] = sites[i] + miss / max(dist, 1e-9) * (1.5 * dist + 100.0)
        result = _fit_weights(region, sites, seeds, targets, result.weights, tolerance, max_iterations)
    return result
