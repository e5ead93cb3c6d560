"""Results of the overlap (压占分析): per target, per parcel, and the table both outputs share.

:class:`TargetResult` holds the overlap of all parcels with one target; :class:`OverlapAnalysis`
holds parcels × targets and gives the summaries and the long table, either as a GeoDataFrame
(:meth:`OverlapAnalysis.frame`) or as plain dicts (:meth:`OverlapAnalysis.records`). Both build
their rows with :func:`_row`, the one definition of the columns, their order and their rounding.
Areas are planar m² in EPSG:4547; 公顷 = 10 000 m², 亩 = 10000/15 m², km² = 1 000 000 m²
(:mod:`gisapp.core.units`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gisapp.analysis.overlap.targets import ControlLayer
from gisapp.core.chunks import to_crs_array
from gisapp.core.crs import PROJECTED, WGS84
from gisapp.core.units import M2_PER_HA, M2_PER_KM2, M2_PER_MU, area_fields

#: Columns of the table holding text (object dtype in :meth:`OverlapAnalysis.frame`).
TEXT_COLUMNS = ("parcel_id", "target", "features", "feature_names", "towns")


@dataclass
class TargetResult:
    """The overlap of all parcels with one target.

    Attributes:
        control: the target.
        overlap_m2: per parcel, planar m² shared with the target (union of its features).
        feature_ids: per parcel (object array of str), ids of the touched features joined by ``,``.
        feature_names: per parcel (object array of str), their names joined by ``、``.
        by_feature: per touched feature: ``{id, name, parcels, area_m2, area_ha, area_mu, area_km2}``.
    """

    control: ControlLayer
    overlap_m2: np.ndarray
    feature_ids: np.ndarray
    feature_names: np.ndarray
    by_feature: list[dict[str, Any]]


def _pct_array(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``part / whole * 100`` per element; 0 where ``whole`` is 0."""
    return np.where(whole > 0, part / np.where(whole > 0, whole, 1) * 100, 0.0)


def _pct_scalar(part: float, whole: float) -> float:
    """``part / whole * 100``; 0 when ``whole`` is 0."""
    return part / whole * 100 if whole > 0 else 0.0


def _row(
    target: Any,
    parcel_area: Any,
    overlap: Any,
    feature_ids: Any,
    feature_names: Any,
    towns: Any,
    rnd: Callable[[Any, int], Any],
    pct: Callable[[Any, Any], Any],
) -> dict[str, Any]:
    """The columns after the parcel's id and attributes: names, order and rounding, in one place.

    Called with one parcel's values (Python floats, :func:`round`, :func:`_pct_scalar`) by
    :meth:`OverlapAnalysis.records`, and with whole columns (arrays, :func:`numpy.round`,
    :func:`_pct_array`) by :meth:`OverlapAnalysis.frame`.

    Args:
        target: the target's spec; parcel_area, overlap: planar m² (EPSG:4547);
        feature_ids, feature_names, towns: the labels; rnd: rounding ``(value, decimals)``;
        pct: percentage ``(part, whole)``.

    Returns:
        ``{target, parcel_area_m2, overlap_m2, overlap_ha, overlap_mu, overlap_km2, overlap_pct,
        features, feature_names, towns, overlaps}``.
    """
    return {
        "target": target,
        "parcel_area_m2": rnd(parcel_area, 2),
        "overlap_m2": rnd(overlap, 2),
        "overlap_ha": rnd(overlap / M2_PER_HA, 4),
        "overlap_mu": rnd(overlap / M2_PER_MU, 4),
        "overlap_km2": rnd(overlap / M2_PER_KM2, 6),
        "overlap_pct": rnd(pct(overlap, parcel_area), 3),
        "features": feature_ids,
        "feature_names": feature_names,
        "towns": towns,
        "overlaps": overlap > 0,
    }


@dataclass
class OverlapAnalysis:
    """Parcels × targets: the per-parcel figures and the summaries (see :func:`gisapp.analysis.overlap.engine.analyse`).

    Attributes:
        ids: parcel ids (str).
        geometries: the parcels in EPSG:4547.
        properties: the parcels' attributes (one row per parcel; no ``parcel_id``/geometry).
        parcel_area_m2: planar area of each parcel (m²).
        towns: per parcel (object array of str), the 镇街 it lies in (joined by ``、``, town-layer order).
        targets: one :class:`TargetResult` per target, in the order requested.
    """

    ids: np.ndarray
    geometries: np.ndarray
    properties: pd.DataFrame
    parcel_area_m2: np.ndarray
    towns: np.ndarray
    targets: list[TargetResult]

    def summary(self, t: TargetResult) -> dict[str, Any]:
        """Summary of one target: counts, parcel and overlap areas (m², km², 公顷, 亩), % and features.

        Returns:
            ``{target, parcel_count, overlapping_count, parcel_area_{m2,km2,ha,mu},
            overlap_{m2,km2,ha,mu}, overlap_pct, features_touched, by_feature}``.
        """
        parea, ov = self.parcel_area_m2, t.overlap_m2
        return {
            "target": t.control.spec,
            "parcel_count": int(len(parea)),
            "overlapping_count": int((ov > 0).sum()),
            **area_fields(float(parea.sum()), prefix="parcel_area"),
            **area_fields(float(ov.sum()), prefix="overlap"),
            "overlap_pct": round(float(ov.sum() / parea.sum() * 100), 3) if parea.sum() else 0.0,
            "features_touched": [f["id"] for f in t.by_feature],
            "by_feature": t.by_feature,
        }

    def summaries(self) -> dict[str, dict[str, Any]]:
        """``{target spec: summary}`` for every target, in order."""
        return {t.control.spec: self.summary(t) for t in self.targets}

    def frame(self, crs: str | None = WGS84) -> gpd.GeoDataFrame:
        """The long table: one row per parcel and target (target-major), with geometry.

        Args:
            crs: CRS of the geometry column (default EPSG:4326; None keeps EPSG:4547).

        Returns:
            GeoDataFrame with ``parcel_id``, the parcel's attributes and the columns of :func:`_row`:
            ``target, parcel_area_m2, overlap_m2, overlap_ha, overlap_mu, overlap_km2, overlap_pct,
            features`` (ids joined by ``,``), ``feature_names``, ``towns``, ``overlaps`` (bool).
        """
        geoms = self.geometries
        if crs is not None and crs != PROJECTED:
            geoms = to_crs_array(geoms, crs)
        table = self.attributes()
        all_geoms = geoms if len(self.targets) == 1 else np.concatenate([geoms] * len(self.targets))
        return gpd.GeoDataFrame(table, geometry=all_geoms, crs=crs or PROJECTED)

    def attributes(self) -> pd.DataFrame:
        """The rows of :meth:`frame` without geometry (a DataFrame; its geometry is :attr:`geometries` once per target)."""
        n = len(self.ids)
        props = self.properties.reset_index(drop=True) if len(self.properties.columns) else None
        frames = []
        for t in self.targets:
            cols: dict[str, Any] = {"parcel_id": self.ids.astype(str)}
            if props is not None:
                cols.update({c: props[c] for c in props.columns if c not in cols})
            row = _row(
                np.full(n, t.control.spec, dtype=object),
                self.parcel_area_m2,
                t.overlap_m2,
                t.feature_ids,
                t.feature_names,
                self.towns,
                np.round,
                _pct_array,
            )
            cols.update(row)
            for c in TEXT_COLUMNS:
                cols[c] = pd.Series(cols[c], dtype=object)
            frames.append(pd.DataFrame(cols))
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    def records(self) -> list[dict[str, Any]]:
        """The rows of :meth:`frame` (same keys and rounding) as plain dicts, without geometry.

        Built without pandas, for small inputs (one HTTP request = one parcel): the same
        figures as :meth:`frame`, target-major.
        """
        props: list[dict[str, Any]] = (
            [{str(k): v for k, v in r.items()} for r in self.properties.to_dict(orient="records")]
            if len(self.properties.columns)
            else [{}] * len(self.ids)
        )
        parea = self.parcel_area_m2
        out = []
        for t in self.targets:
            ov = t.overlap_m2
            for i in range(len(self.ids)):
                row = _row(
                    t.control.spec,
                    float(parea[i]),
                    float(ov[i]),
                    t.feature_ids[i],
                    t.feature_names[i],
                    self.towns[i],
                    round,
                    _pct_scalar,
                )
                out.append({"parcel_id": str(self.ids[i]), **props[i], **row})
        return out
