"""``POST /api/overlap`` and ``POST /api/overlap/report``: parcels against targets (压占分析).

A thin layer over :func:`gisapp.analysis.overlap.run_overlap` (the core of :func:`gisapp.analysis.service.overlap_check`)
and :func:`gisapp.report.overlap_report.render`. ``format`` takes every file format of ``/api/export``
(:data:`gisapp.io.writers.WRITERS`) and the renderings ``json`` (default), ``html`` and ``pdf``
(:data:`gisapp.report.overlap_report.REPORTS`); ``/api/overlap/report`` takes ``pdf`` (default) or ``html``.

Body: the file itself (any format of :mod:`gisapp.io.readers`), or ``multipart/form-data`` with a
field ``file`` (its file name is a format hint) or a field ``text`` (pasted coordinates).
Query parameters: ``target`` (repeatable; default the red line; ``controls`` = every control line, ``三区三线`` = the
three national lines, each with its verdict: ``control_lines`` of the answer), ``format``, ``bom=1``,
``crs``, ``datum=gcj02|bd09``, ``infer=0``, ``sliver_m2``, ``id_field``, ``layer``,
``input_format``, ``filename``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from gisapp.analysis.overlap import run_overlap
from gisapp.analysis.parcels import MAX_FEATURES
from gisapp.core.errors import InputError
from gisapp.report.overlap_report import overlap_format, render
from gisapp.web.accounts import request_provenance
from gisapp.web.admission import request_limits
from gisapp.web.api import want_bom
from gisapp.web.context import current_store

URL_PREFIX = "/api"
blueprint = Blueprint("overlap", __name__)


def _submission() -> tuple[bytes, str | None]:
    if request.files or request.form:
        upload = request.files.get("file")
        if upload is not None:
            return upload.read(), upload.filename or None
        text = request.form.get("text")
        if text is not None:
            return text.encode("utf-8"), None
        raise InputError(
            "multipart upload needs a field named 'file' (or 'text' for pasted coordinates)", code="missing_file"
        )
    return request.get_data(cache=False), request.args.get("filename")


def _options() -> dict[str, Any]:
    args = request.args
    sliver = args.get("sliver_m2")
    try:
        sliver_m2 = float(sliver) if sliver not in (None, "") else None
    except ValueError as exc:
        raise InputError(f"sliver_m2 must be a number of m², not {sliver!r}", code="invalid_parameter") from exc
    return {
        "targets": args.getlist("target") or None,
        "fmt": args.get("input_format") or None,
        "layer": args.get("layer") or None,
        "crs": args.get("crs") or None,
        "datum": args.get("datum", "wgs84"),
        "infer": args.get("infer", "1") not in ("0", "false", "no"),
        "sliver_m2": sliver_m2,
        "id_field": args.get("id_field") or None,
        "max_features": MAX_FEATURES,
        "limits": request_limits(),
    }


def _run(documents_only: bool) -> Response:
    fmt = overlap_format(request.args.get("format"), documents_only).key  # 400 before reading the body
    data, filename = _submission()
    if not data:
        raise InputError("empty request body: send parcels (GeoJSON, a zipped Shapefile, …)", code="empty_input")
    store = current_store()
    analysis, info = run_overlap(data, filename, store=store, **_options())
    provenance = request_provenance()  # the audit record id and layer versions (None without an accounts db)
    if provenance is not None:
        info["provenance"] = provenance
    out = render(analysis, info, fmt, bom=want_bom(), store=store, documents_only=documents_only)
    disposition = "inline" if out.inline else "attachment"
    return Response(
        out.body, mimetype=out.mimetype, headers={"Content-Disposition": f'{disposition}; filename="{out.filename}"'}
    )


@blueprint.post("/overlap")
def overlap() -> Response:
    """Overlap parcels with the targets: ``json`` (default: info + FeatureCollection), any file
    format of ``/api/export`` (``geojson``, ``gpkg``, ``shp``, ``kml``, ``csv`` with ``bom=1`` for
    Excel, ``fgb``, ``parquet``), or the report (``html``, ``pdf``)."""
    return _run(documents_only=False)


@blueprint.post("/overlap/report")
def overlap_report() -> Response:
    """The filed report of the same analysis: ``format=pdf`` (default) or ``html``."""
    return _run(documents_only=True)
