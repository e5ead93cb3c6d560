"""Capacity-constrained power diagrams: tile a polygon into cells of prescribed areas.

A power diagram (weighted Voronoi diagram) assigns a point ``x`` to the site ``i`` that
minimises ``|x - p_i|² - w_i``. Its cells are convex polygons bounded by straight lines, so a
diagram clipped to a region tiles the region exactly, with no gap and no overlap. Adjusting
the weights grows or shrinks cells until each has its target area (Aurenhammer, Hoffmann
and Aronov, "Minkowski-type theorems and least-squares clustering", Algorithmica 20, 1998).

A cell may have several seeds (``labels``): it is then the union of their power cells, all
sharing one weight — a multi-seed power diagram that follows the spread of the points known to
lie in the cell.

Everything here works in a projected CRS in metres; :mod:`gisapp.plans.towns` calls it in EPSG:4547.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    n = len(sites)
    cells: list[Polygon] = []
    for i in range(n):
        others = np.array([j for j in range(n) if j != i], dtype=int)
        normals = 2.0 * (sites[others] - sites[i])  # the same arithmetic as one half-plane at a time
        offsets = sq[others] - sq[i] - weights[others] + weights[i]
        poly = start
        pos = 0
        while pos < len(others) and len(poly):
            # Skip the half-planes that hold the whole polygon (most of them: clipping by one is a no-op);
            # the test errs towards clipping (a margin for rounding), and the clip itself decides as before.
            side = poly[:, :1] * normals[pos:, 0] + poly[:, 1:] * normals[pos:, 1] - offsets[pos:]
            margin = 1e-9 * (np.abs(poly).max() * np.abs(normals[pos:]).sum(axis=1) + np.abs(offsets[pos:]))
            cutting = np.flatnonzero((side > -margin).any(axis=0))
            if len(cutting) == 0:
                break
            pos += int(cutting[0])
            poly = _clip_halfplane(poly, normals[pos], float(offsets[pos]))
            pos += 1
        cells.append(Polygon(poly) if len(poly) >= 3 else Polygon())
    return cells


def _parts(geom: BaseGeometry) -> list[Polygon]:
    if geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon) and not g.is_empty]


def _valid(geom: BaseGeometry) -> BaseGeometry:
    """The polygonal part of ``geom`` made valid (corridors can leave rings touching themselves)."""
    if geom.is_valid:
        return geom
    fixed = shapely.make_valid(geom)
    polys = [p for p in shapely.get_parts(fixed) if isinstance(p, Polygon) and not p.is_empty]
    if not polys:  # a GeometryCollection holding polygons inside collections
        polys = [p for p in _parts(shapely.union_all(shapely.get_parts(fixed))) if p.area > 0]
    return shapely.union_all(polys)


def _labels(n_cells: int, n_seeds: int, labels: np.ndarray | None) -> np.ndarray:
    if labels is None:
        if n_seeds != n_cells:
            raise ValueError("without labels there must be one seed per cell")
        return np.arange(n_cells)
    labels = np.asarray(labels, dtype=int)
    if len(labels) != n_seeds or labels.min() < 0 or labels.max() >= n_cells:
        raise ValueError("labels must give a cell index (0 … n_cells-1) for every seed")
    return labels


def reattach_fragments(
    cells: list[BaseGeometry], seeds: np.ndarray, labels: np.ndarray | None = None
) -> list[BaseGeometry]:
    """Give every detached fragment of a cell to the neighbour it shares most boundary with.

    Clipping convex cells to a non-convex region can split a cell; the parts holding one of the
    cell's seeds (or, if none does, the largest part) stay, the other parts join the cell they
    touch most. The union of the cells is unchanged, so the tiling stays gap- and overlap-free.

    Args:
        cells: polygons (one per cell) tiling a region.
        seeds: m×2 seed coordinates; ``seeds[k]`` should lie in ``cells[labels[k]]``.
        labels: the cell index of every seed (default: seed ``k`` belongs to cell ``k``).

    Returns:
        the cells, each a Polygon where the geometry allows, else a MultiPolygon.

    Raises:
        ValueError: when ``labels`` does not fit ``cells`` and ``seeds``.
    """
    labels = _labels(len(cells), len(seeds), labels)
    main: list[list[Polygon]] = []
    orphans: list[Polygon] = []
    for i, cell in enumerate(cells):
        parts = _parts(cell)
        if not parts:
            main.append([])
            continue
        own = [shapely.Point(s) for s in seeds[labels == i]]
        keep = [p for p in parts if any(p.covers(q) for q in own)] or [max(parts, key=lambda p: p.area)]
        main.append(keep)
        orphans.extend(p for p in parts if not any(p is k for k in keep))
    merged = [shapely.union_all(m) if m else Polygon() for m in main]
    extra: list[list[Polygon]] = [[] for _ in cells]
    for frag in orphans:
        shared = [frag.boundary.intersection(m.boundary).length if not m.is_empty else 0.0 for m in merged]
        extra[int(np.argmax(shared))].append(frag)
    return [shapely.union_all([merged[i], *extra[i]]) if extra[i] else merged[i] for i in range(len(cells))]


def attach_seeds(
    cells: list[BaseGeometry], seeds: np.ndarray, width: float = 300.0, labels: np.ndarray | None = None
) -> list[BaseGeometry]:
    """Make every cell contain all its seeds by giving it a corridor from its nearest point to each seed.

    The corridor (``width`` metres wide, round-ended) is taken from the cells it crosses, so the
    union of the cells is unchanged. Seeds already inside their cell are untouched.

    Args:
        cells: polygons (one per cell) tiling a region, projected (metres).
        seeds: m×2 seed coordinates.
        width: corridor width in metres.
        labels: the cell index of every seed (default: seed ``k`` belongs to cell ``k``).

    Returns:
        the cells, fragments re-attached (see :func:`reattach_fragments`).

    Raises:
        ValueError: when ``labels`` does not fit ``cells`` and ``seeds``.
    """
    labels = _labels(len(cells), len(seeds), labels)
    cells = list(cells)
    region = shapely.union_all(cells)
    changed = False
    for k, i in enumerate(labels):
        seed = shapely.Point(seeds[k])
        cell = cells[i]
        if cell.is_empty or cell.covers(seed):
            continue
        line = shapely.shortest_line(cell, seed)
        patch = shapely.intersection(line.buffer(width / 2.0), region)
        for j in range(len(cells)):
            cells[j] = cells[j].union(patch) if j == i else cells[j].difference(patch)
        changed = True
    return reattach_fragments(cells, seeds, labels) if changed else cells


@dataclass
class PowerTiling:
    """Result of :func:`tile_by_area`: the cells, the final weights (one per cell) and the fit."""

    cells: list[BaseGeometry]
    weights: np.ndarray
    sites: np.ndarray
    areas: np.ndarray
    iterations: int
    max_relative_error: float
    labels: np.ndarray | None = None
    corridors: list[int] = field(default_factory=list)
    """Indices of the seeds that only reach their cell through a corridor (:func:`attach_seeds`)."""
    offsets: np.ndarray | None = None
    """Per-seed weight added to its cell's weight (m²), so that the seed holds its own ground."""

    def seeds_outside(self, seeds: np.ndarray) -> list[int]:
        """Return the indices of seeds that do not lie inside their own cell."""
        labels = _labels(len(self.cells), len(seeds), self.labels)
        return [k for k, (i, s) in enumerate(zip(labels, seeds)) if not self.cells[i].covers(shapely.Point(s))]


def _cells_of(
    region: BaseGeometry,
    sites: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    offsets: np.ndarray,
    n: int,
    box: tuple,
) -> list[BaseGeometry]:
    """The region split among n cells: cell i = union of the power cells of the sites labelled i."""
    raw = power_cells(sites, weights[labels] + offsets, box)
    clipped = shapely.intersection(np.array(raw, dtype=object), region)
    return [shapely.union_all(clipped[labels == i]) for i in range(n)]


def _fit_weights(
    region: Polygon | MultiPolygon,
    sites: np.ndarray,
    seeds: np.ndarray,
    labels: np.ndarray,
    targets: np.ndarray,
    weights: np.ndarray,
    offsets: np.ndarray,
    tolerance: float,
    max_iterations: int,
) -> PowerTiling:
    minx, miny, maxx, maxy = region.bounds
    pad = max(maxx - minx, maxy - miny)
    box = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    n = len(targets)
    step = 0.5
    best: PowerTiling | None = None
    for it in range(max_iterations):
        cells = reattach_fragments(_cells_of(region, sites, labels, weights, offsets, n, box), seeds, labels)
        loose = [k for k, i in enumerate(labels) if not cells[i].covers(shapely.Point(seeds[k]))]
        if loose:
            cells = attach_seeds(cells, seeds, labels=labels)
        areas = shapely.area(np.array(cells, dtype=object))
        err = float((np.abs(areas - targets) / targets).max())
        if best is None or err < best.max_relative_error:
            best = PowerTiling(cells, weights.copy(), sites.copy(), areas, it, err, labels, loose, offsets.copy())
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
    labels: np.ndarray | None = None,
    hold_m: float = 500.0,
) -> PowerTiling:
    """Tile ``region`` into one cell per target, each containing all its seeds, with target areas.

    A *multi-seed* power diagram: every seed is a generator; all generators of one cell share
    that cell's weight, and the cell is the union of their power cells. With several seeds per
    cell (``labels``), the cell follows the seeds' spread instead of being one convex polygon
    around a single point. When a fitted cell misses a seed, that seed's generator is pushed
    towards it (by 1.5 × the miss distance plus 100 m) and the weights are fitted again, up to
    ``max_rounds`` times; a seed still outside is then joined to its cell by a 300 m corridor
    (:func:`attach_seeds`), inside the fit, so the areas still meet their targets.

    Args:
        region: the polygon to tile (projected, metres).
        seeds: m×2 points inside ``region`` that must lie inside their own cells.
        targets: n target areas in m²; they should sum to ``region.area``.
        tolerance: stop fitting when every ``|area - target| / target`` is below this.
        max_iterations: weight updates per round (the best fit of the round is kept).
        max_rounds: rounds of seed weight offsets before falling back to corridors.
        labels: the cell index (0 … n-1) of every seed; default one seed per cell, in order.
        hold_m: radius (m) a swallowed seed is given around itself.

    Returns:
        a :class:`PowerTiling`; cells are Polygons or MultiPolygons in the region's
        coordinates, covering it without gap or overlap (up to floating-point noise).
        Check :attr:`PowerTiling.seeds_outside` for any seed left outside its cell and
        :attr:`PowerTiling.corridors` for seeds reached only through a corridor.

    Raises:
        ValueError: when ``labels`` does not give a valid cell for every seed, or a cell has no seed.
    """
    seeds = np.asarray(seeds, dtype=float)
    targets = np.asarray(targets, dtype=float)
    labels = _labels(len(targets), len(seeds), labels)
    if len(set(labels.tolist())) != len(targets):
        raise ValueError("every cell needs at least one seed")
    shapely.prepare(region)
    sites = seeds.copy()
    offsets = np.zeros(len(seeds))
    weights = np.zeros(len(targets))
    result = _fit_weights(region, sites, seeds, labels, targets, weights, offsets, tolerance, max_iterations)
    sq = ((sites[:, None, :] - sites[None, :, :]) ** 2).sum(axis=2)
    other = labels[:, None] != labels[None, :]
    for _ in range(max_rounds):
        if not result.corridors:
            break
        # A seed swallowed by a neighbour's power cell gets a weight of its own: enough to beat
        # every generator of another cell at the seed, plus a margin that holds a disc of
        # ``hold_m`` around it. Its cell's common weight is then fitted again.
        w = result.weights[labels] + offsets
        for k in result.corridors:
            need = np.max(np.where(other[k], w - sq[k], -np.inf)) + hold_m**2
            offsets[k] += max(0.0, need - w[k])
        result = _fit_weights(region, sites, seeds, labels, targets, result.weights, offsets, tolerance, max_iterations)
    result.cells = [_valid(c) for c in result.cells]
    for _ in range(max_rounds):
        # Polish: a corridor or a moved generator can leave the last round short of the tolerance;
        # refit from the weights reached (the generators stay where they are).
        if result.max_relative_error < tolerance:
            break
        again = _fit_weights(
            region, result.sites, seeds, labels, targets, result.weights, offsets, tolerance, max_iterations
        )
        if again.max_relative_error >= result.max_relative_error:
            break
        result = again
        result.cells = [_valid(c) for c in result.cells]
    return result
