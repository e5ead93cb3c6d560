"""The overlap use case (压占分析): any parcel file × targets of the store → results and their provenance.

:func:`run_overlap` reads and checks the parcels (:mod:`gisapp.analysis.parcels`), loads the targets and the
镇街 layer from a :class:`gisapp.store.layerstore.LayerStore`, runs the engine (:mod:`gisapp.analysis.overlap.engine`)
and describes everything it decided (CRS, repairs, drops, QA, targets' vintage, plan citations);
:func:`overlap_table` adds the long table in the output CRS the caller chose
(:func:`output_crs_of`). Used by :func:`gisapp.analysis.service.overlap_check`, the web routes and the Dask runner.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import geopandas as gpd

from gisapp.analysis.overlap.citations import plan_rules
from gisapp.analysis.overlap.engine import PairFunction, analyse_arrays
from gisapp.analysis.overlap.result import OverlapAnalysis
from gisapp.analysis.overlap.targets import check_target, default_targets, expand_targets, load_control, towns_control
from gisapp.analysis.overlap.verdicts import control_line_verdicts
from gisapp.analysis.parcels import DEFAULT_SLIVER_M2, check_sliver_m2, load_parcels
from gisapp.core.limits import Limits
from gisapp.store.layerstore import LayerStore


def run_overlap(
    data: bytes | str,
    filename: str | None = None,
    targets: list[str] | None = None,
    *,
    fmt: str | None = None,
    layer: str | None = None,
    crs: str | None = None,
    datum: str = "wgs84",
    infer: bool = True,
    sliver_m2: float | None = None,
    id_field: str | None = None,
    max_features: int | None = None,
    workers: int | None = None,
    pair_function: PairFunction | None = None,
    limits: Limits | None = None,
    store: LayerStore,
) -> tuple[OverlapAnalysis, dict[str, Any]]:
    """The overlap use case: read any parcel file, decide its CRS, QA, overlap with targets and towns.

    Arguments as :func:`gisapp.analysis.service.overlap_check` (which wraps this and returns the table);
    ``store`` is the layer store the targets and the towns come from;
    ``limits`` (:class:`gisapp.core.limits.Limits`, default :data:`gisapp.core.limits.DEFAULT_LIMITS`) bounds
    reading the submission; ``sliver_m2`` must be a finite number ≥ 0 (400 otherwise).

    Returns:
        ``(analysis, info)``: the :class:`OverlapAnalysis` and the ``info`` dict described in
        :func:`gisapp.analysis.service.overlap_check`, plus ``control_lines``: each control line's
        verdicts on the parcels (:func:`gisapp.analysis.overlap.verdicts.control_line_verdicts`).
        ``targets`` may name sets of control lines (``controls``, ``三区三线``: :func:`expand_targets`).

    Raises:
        InputError: bad file, CRS, geometry or target.
    """
    sliver_m2 = DEFAULT_SLIVER_M2 if sliver_m2 is None else check_sliver_m2(sliver_m2)
    specs = expand_targets(targets or default_targets())
    for spec in specs:  # a bad target fails before the parcels are read
        check_target(spec, store)
    parsed = load_parcels(
        data,
        filename=filename,
        fmt=fmt,
        layer=layer,
        crs=crs,
        datum=datum,
        infer=infer,
        sliver_m2=sliver_m2,
        id_field=id_field,
        max_features=max_features,
        limits=limits,
    )
    controls = [load_control(spec, store, near=parsed.geometries) for spec in specs]
    towns = towns_control(store)
    analysis = analyse_arrays(
        parsed.ids, parsed.geometries, parsed.properties, controls, towns, workers=workers, pair_function=pair_function
    )
    first = controls[0]
    info = {
        "summary": analysis.summary(analysis.targets[0]),
        "summaries": analysis.summaries(),
        "targets": [c.info() for c in controls],
        "rules": plan_rules(controls),
        "control_lines": control_line_verdicts(analysis),
        "input_crs": parsed.crs,
        "crs": parsed.decision.to_dict() if parsed.decision else None,
        "repairs": parsed.repairs,
        "dropped": parsed.dropped,
        "qa": parsed.qa_dict(),
        "input": parsed.source.to_dict() if parsed.source else None,
        "towns_layer": towns.info() if towns else None,
        "control_layer": first.layer_id,
        "geometry_basis": first.geometry_basis,
        "illustrative": first.geometry_basis != "official",
        "units": "planar EPSG:4547; m²; 公顷 = 10 000 m²; 亩 = 10000/15 m²; km² = 1 000 000 m²",
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "engine": {"kind": "threads" if pair_function is None else "custom"},
    }
    return analysis, info


def output_crs_of(output_crs: str | None, info: dict[str, Any]) -> str | None:
    """The CRS the result's geometry is written in.

    Args:
        output_crs: as asked: a CRS (default of the callers EPSG:4326), None = EPSG:4547, or
            ``"input"`` = the CRS the parcels came in, declared or inferred.
        info: the ``info`` of :func:`run_overlap` (its ``crs`` decision).

    Returns:
        the CRS for :meth:`OverlapAnalysis.frame`; for ``"input"``: the decision's CRS when its datum
        is WGS 84 (GCJ-02/BD-09 input comes back in EPSG:4326), None when that CRS is EPSG:4547.
    """
    if output_crs != "input":
        return output_crs
    stated = info.get("crs") or {}
    crs = (stated.get("crs") or "EPSG:4326") if stated.get("datum", "wgs84") == "wgs84" else "EPSG:4326"
    return None if crs == "EPSG:4547" else crs


def overlap_table(
    data: bytes | str,
    filename: str | None = None,
    targets: list[str] | None = None,
    *,
    store: LayerStore,
    output_crs: str | None = "EPSG:4326",
    **options: Any,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Read parcels in any supported format and overlap them with one or more targets and the towns.

    Args:
        data: the file's bytes or text (GeoJSON, zipped Shapefile, GeoPackage, KML, GeoParquet,
            DXF, boundary-point list, pasted coordinates: see :mod:`gisapp.io.readers`).
        filename: the original file name (a format hint; reported).
        targets: target specs (``LAYER`` or ``LAYER[FIELD=VALUE]``); default: the red line.
        store: the layer store the targets and the towns come from.
        **options: passed to :func:`gisapp.analysis.overlap.run_overlap`: ``fmt``, ``layer`` (force a format;
            choose a layer of a multi-layer file), ``crs``, ``datum``, ``infer``, ``sliver_m2``,
            ``id_field``, ``max_features`` (see :func:`gisapp.analysis.parcels.prepare_parcels`; ``sliver_m2``
            None = 1 m²), ``workers`` (threads; default CPU count), ``pair_function`` (another overlap
            engine, e.g. Dask's: :func:`gisapp.analysis.overlap.dask_overlap_check`).
        output_crs: CRS of the result's geometry (default EPSG:4326; None = EPSG:4547; ``"input"`` = the
            CRS the parcels came in, declared or inferred — GCJ-02/BD-09 input comes back in WGS 84).

    Returns:
        ``(result, info)``: ``result`` one row per parcel and target (see
        :meth:`OverlapAnalysis.frame`); ``info`` = ``{"summary"`` (first target),
        ``"summaries"`` (per target), ``"targets"`` (title, basis, vintage), ``"rules"`` (plan
        sentences), ``"input_crs"``, ``"crs"`` (the CRS decision), ``"repairs"``, ``"dropped"``,
        ``"qa"``, ``"input"`` (file name, format, bytes, SHA-256), ``"towns_layer"``,
        ``"control_layer"``, ``"geometry_basis"``, ``"illustrative"``, ``"units"``, ``"generated"}``.

    Raises:
        InputError: bad file, CRS, geometry or target (codes in :mod:`gisapp.analysis.parcels`,
            :mod:`gisapp.core.crsinfer`, :mod:`gisapp.analysis.overlap`).
    """
    analysis, info = run_overlap(data, filename, targets, store=store, **options)
    return analysis.frame(crs=output_crs_of(output_crs, info)), info


def overlap_metadata(info: dict[str, Any], store: LayerStore) -> dict[str, Any]:
    """The record an overlap result's file carries (the metadata of :func:`overlap_frame`).

    Args:
        info: the result's ``info`` dict (``control_layer``, ``summary``, ``input_crs``, ``repairs``, ``illustrative``).
        store: the layer store holding the control layer.

    Raises:
        LayerNotFound: the control layer is gone from the store.
    """
    md = store.meta(info["control_layer"]).to_dict()
    md.update(
        {
            "id": "overlap",
            "title": f"压占分析：宗地 × {md['title']}",
            "title_en": f"Overlap analysis: parcels × {md['title_en']}",
            "analysis": "overlap of parcels with the control layer, areas planar in EPSG:4547 (gisapp.analysis.overlap)",
            "summary": info["summary"],
            "input_crs": info["input_crs"],
            "repairs": info["repairs"],
            "illustrative": info["illustrative"],
        }
    )
    return md
