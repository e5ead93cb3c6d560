"""The overlap engine (压占分析): parcels × targets → areas per parcel, per feature, per target.

For every parcel and every target (:class:`gisapp.analysis.overlap.targets.ControlLayer`): the area the
parcel shares with the target, the ids and names of the touched features, and the 镇街 the
parcel lies in. All areas are planar in EPSG:4547 (CGCS2000 / 3-degree GK CM 114E), m².

Pairs (:func:`overlap_pairs`), shapely 2 vectorised:

1. an STRtree over the target's features is queried with all parcels' envelopes at once;
2. candidate pairs whose parcel lies wholly inside the feature (``contains_properly`` on the
   *prepared* feature) take the parcel's own area — no intersection computed;
3. the remaining pairs that intersect get ``area(intersection)``;
4. parcels are cut into chunks of :data:`gisapp.core.chunks.CHUNK` run on a thread pool (shapely
   releases the GIL), each thread with its own prepared copy of the features (GEOS builds
   prepared indexes lazily, which is not thread-safe).

A parcel touching several features of one target is measured against their union
(:func:`measure_target`), so overlapping features (a core inside a zone) are not counted twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisapp.analysis.overlap.result import OverlapAnalysis, TargetResult
from gisapp.analysis.overlap.targets import ControlLayer
from gisapp.core import chunks
from gisapp.core.crs import PROJECTED
from gisapp.core.crsinfer import PROJECTED_CRS
from gisapp.core.errors import InputError
from gisapp.core.units import area_fields

#: An engine: ``(parcels EPSG:4547, target) -> (parcel_index, feature_index, area_m2)``, as
#: :func:`overlap_pairs` without ``workers`` (e.g. :func:`gisapp.analysis.overlap.dask_engine.dask_pair_function`).
PairFunction = Callable[[np.ndarray, ControlLayer], tuple[np.ndarray, np.ndarray, np.ndarray]]


def _pairs_chunk(parcels: np.ndarray, offset: int, control: ControlLayer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of one chunk of parcels (steps 1–3 of the module docstring); parcel indexes shifted by ``offset``."""
    pieces, owner = control.pieces
    ci, fi = control.tree.query(parcels)
    if len(ci) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    with control.prepared() as feats:
        inside = shapely.contains_properly(feats[fi], parcels[ci])
        area: np.ndarray = np.zeros(len(ci))
        area[inside] = shapely.area(parcels[ci[inside]])
        rest = np.flatnonzero(~inside)
        hit = rest[shapely.intersects(feats[fi[rest]], parcels[ci[rest]])]
    area[hit] = shapely.area(shapely.intersection(parcels[ci[hit]], pieces[fi[hit]]))
    keep = area > 0
    ci, fi, area = ci[keep], owner[fi[keep]], area[keep]
    if len(pieces) != len(control.geometries) and len(ci):
        # several pieces of one feature: sum them into one (parcel, feature) pair
        key = ci.astype(np.int64) * len(control.geometries) + fi
        uniq, inverse = np.unique(key, return_inverse=True)
        area = np.bincount(inverse, weights=area)
        ci, fi = uniq // len(control.geometries), uniq % len(control.geometries)
    return ci + offset, fi, area


def overlap_pairs(
    parcels: np.ndarray, control: ControlLayer, workers: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (parcel, feature) pair that shares area, with that area.

    Args:
        parcels: Polygons/MultiPolygons in EPSG:4547 (valid).
        control: the target (EPSG:4547).
        workers: threads (default: the machine's CPU count); inputs under ``2 * gisapp.core.chunks.CHUNK``
            parcels run in the calling thread.

    Returns:
        ``(parcel_index, feature_index, area_m2)`` arrays, area > 0, planar m².
    """
    n, size = len(parcels), chunks.CHUNK
    if n < 2 * size or workers == 1:
        return _pairs_chunk(parcels, 0, control)
    workers = workers or os.cpu_count() or 1
    starts = range(0, n, size)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(lambda s: _pairs_chunk(parcels[s : s + size], s, control), starts))
    pi, fi, area = (np.concatenate([p[k] for p in parts]) for k in range(3))
    return pi, fi, area


def _union_fix(parcels: np.ndarray, control: ControlLayer, pi: np.ndarray, fi: np.ndarray, overlap: np.ndarray) -> None:
    """Re-measure parcels touching several features against the union of those features."""
    counts = np.bincount(pi, minlength=len(overlap))
    multi = np.flatnonzero(counts > 1)
    if len(multi) == 0:
        return
    order = np.argsort(pi, kind="stable")
    spi, sfi = pi[order], fi[order]
    starts = np.searchsorted(spi, multi)
    for p, s in zip(multi, starts):
        overlap[p] = union_overlap_m2(parcels[p], control, sfi[s : s + counts[p]])


def union_overlap_m2(parcel: shapely.Geometry, control: ControlLayer, features: np.ndarray) -> float:
    """The area one parcel shares with the union of some features of a target (overlaps counted once).

    Args:
        parcel: a Polygon/MultiPolygon in EPSG:4547 (valid).
        control: the target (EPSG:4547).
        features: indexes into ``control.geometries``.

    Returns:
        planar m² (EPSG:4547) of ``parcel ∩ ⋃ features``.
    """
    return float(shapely.area(shapely.intersection(parcel, shapely.union_all(control.geometries[features]))))


def _joined(
    n: int, pi: np.ndarray, fi: np.ndarray, labels: np.ndarray, sep: str, by_feature: bool = False
) -> np.ndarray:
    """Per parcel, the distinct labels of the features of its pairs joined by ``sep``; ``""`` for none.

    Args:
        n: parcels; pi, fi: the pairs (parcel, feature index); labels: one label per feature.
        sep: the separator; by_feature: order a parcel's labels by feature index (default: by label).

    Parcels with one pair (nearly all) are filled vectorised with the features' own label objects
    (one Python string per feature, not per parcel); the rest in a loop.
    """
    out = np.full(n, "", dtype=object)
    if len(pi) == 0:
        return out
    text = np.empty(len(labels), dtype=object)
    text[:] = [str(v) for v in labels]
    counts = np.bincount(pi, minlength=n)
    single = counts[pi] == 1
    out[pi[single]] = text[fi[single]]
    multi = ~single
    if multi.any():
        mpi, mfi = pi[multi], fi[multi]
        mlab = text[mfi].astype(str)
        order = np.lexsort((mfi if by_feature else mlab, mpi))
        groups: dict[int, list[str]] = {}
        for p, lab in zip(mpi[order].tolist(), mlab[order].tolist()):
            groups.setdefault(p, []).append(lab)
        for p, labs in groups.items():
            out[p] = sep.join(dict.fromkeys(labs))
    return out


def measure_target(
    parcels: np.ndarray, control: ControlLayer, workers: int | None = None, pair_function: PairFunction | None = None
) -> TargetResult:
    """Overlap of EPSG:4547 parcels with one target (see the module docstring).

    Args:
        parcels: Polygons/MultiPolygons in EPSG:4547.
        control: the target.
        workers: threads of the in-process engine.
        pair_function: another engine with the signature of :func:`overlap_pairs` (without
            ``workers``), e.g. the Dask one of :func:`gisapp.analysis.overlap.dask_engine.dask_pair_function`.

    Returns:
        the :class:`TargetResult` (areas planar m²).
    """
    n = len(parcels)
    if pair_function is not None:
        pi, fi, area = pair_function(parcels, control)
    else:
        pi, fi, area = overlap_pairs(parcels, control, workers)
    order = np.lexsort((fi, pi))  # one order whatever the engine: identical sums
    pi, fi, area = pi[order], fi[order], area[order]
    overlap = np.bincount(pi, weights=area, minlength=n).astype(float)
    _union_fix(parcels, control, pi, fi, overlap)
    by_area = np.bincount(fi, weights=area, minlength=len(control.ids))
    by_count = np.bincount(fi, minlength=len(control.ids))
    by_feature = [
        {
            "id": str(control.ids[k]),
            "name": str(control.names[k]),
            "parcels": int(by_count[k]),
            **area_fields(float(by_area[k])),
        }
        for k in np.flatnonzero(by_count)
    ]
    return TargetResult(
        control,
        overlap,
        _joined(n, pi, fi, control.ids, ","),
        _joined(n, pi, fi, control.names, "、"),
        by_feature,
    )


def analyse(
    parcels: gpd.GeoDataFrame,
    targets: list[ControlLayer],
    towns: ControlLayer | None = None,
    workers: int | None = None,
    pair_function: PairFunction | None = None,
) -> OverlapAnalysis:
    """Overlap parcels with several targets at once, and find each parcel's 镇街.

    Args:
        parcels: polygons with ``parcel_id`` (any CRS; EPSG:4547 avoids a transformation),
            valid (see :func:`gisapp.analysis.parcels.prepare_parcels`).
        targets: the targets (:func:`gisapp.analysis.overlap.targets.load_control` / ``control_from_frame``).
        towns: the 镇街 layer as a target (its names label parcels), or None.
        workers: threads for large inputs (default: CPU count).
        pair_function: an alternative engine (see :func:`measure_target`).

    Returns:
        the :class:`OverlapAnalysis`.

    Raises:
        InputError: ``no_target`` when ``targets`` is empty; ``missing_crs``.
    """
    if not targets:
        raise InputError("give at least one target layer", code="no_target")
    if parcels.crs is None:
        raise InputError("the parcels have no CRS", code="missing_crs")
    if not parcels.crs.equals(PROJECTED_CRS):
        parcels = parcels.to_crs(PROJECTED)
    ids = (
        parcels["parcel_id"].astype(str).to_numpy()
        if "parcel_id" in parcels
        else np.arange(1, len(parcels) + 1).astype(str)
    )
    props = pd.DataFrame(
        parcels.drop(columns=[parcels.geometry.name] + (["parcel_id"] if "parcel_id" in parcels else []))
    )
    return analyse_arrays(ids, parcels.geometry.to_numpy(), props, targets, towns, workers, pair_function)


def analyse_arrays(
    ids: np.ndarray,
    geometries: np.ndarray,
    properties: pd.DataFrame,
    targets: list[ControlLayer],
    towns: ControlLayer | None = None,
    workers: int | None = None,
    pair_function: PairFunction | None = None,
) -> OverlapAnalysis:
    """:func:`analyse` on arrays: ids, EPSG:4547 geometries (valid polygons) and their attributes.

    Raises:
        InputError: ``no_target`` when ``targets`` is empty.
    """
    if not targets:
        raise InputError("give at least one target layer", code="no_target")
    geoms = np.asarray(geometries, dtype=object)
    parea = shapely.area(geoms)
    results = [measure_target(geoms, t, workers, pair_function) for t in targets]
    if towns is not None:
        tpi, tfi, _ = pair_function(geoms, towns) if pair_function else overlap_pairs(geoms, towns, workers)
        town_names = _joined(len(geoms), tpi, tfi, towns.names, "、", by_feature=True)  # town-layer order
    else:
        town_names = np.full(len(geoms), "", dtype=object)
    return OverlapAnalysis(np.asarray(ids), geoms, properties, parea, town_names, results)
