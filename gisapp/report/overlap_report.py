"""Result files and the filed report of an overlap analysis (压占分析报告).

Outputs of :func:`gisapp.analysis.service.overlap_check`, shared by the CLI (``gisapp overlap``) and the
web layer (``/api/overlap``) through :func:`render`. Two registries:

* the file formats of :data:`gisapp.io.writers.WRITERS` (``geojson``, ``gpkg``, ``shp``, ``kml``,
  ``csv``, ``fgb``, ``parquet``), the same as ``gisapp export`` and ``/api/export`` offer: the
  per-parcel table goes through :func:`gisapp.analysis.sources.overlap_frame` (the one function turning
  a result into what the writers take) and :func:`gisapp.io.formats.export_frame`. The geometry
  stays in the result's CRS (EPSG:4326 unless ``--output-crs``), except GeoJSON and KML, always
  WGS 84 lon/lat (RFC 7946, KML 2.2). Text formats are rounded to
  :func:`gisapp.io.formats.default_precision` (7 decimals for degrees, 2 for metres); binary ones
  keep full precision (15 decimals) so that areas measured on them match the table.
* the report writers of :data:`REPORTS`, which render the analysis rather than a table:

  - ``json``: ``info`` plus ``parcels`` (an RFC 7946 FeatureCollection, WGS 84, exterior rings
    counter-clockwise, 7 decimals): the answer the map page reads;
  - ``html``: the report as one self-contained, print-ready page (A4; inline SVG map; no
    external assets), from ``templates/report/report.html``;
  - ``pdf``: the same report produced on the server with reportlab. Chinese text uses the
  Adobe-GB1 CID font ``STSong-Light`` built into reportlab: no font file is needed (offline,
  pure Python) and the text stays extractable (Unicode CMap ``UniGB-UCS2-H``). The font is
  referenced, not embedded: viewers substitute their own Song/Ming typeface.
  (Chosen over headless Chromium, which has no CJK font on a plain Debian install, and over
  WeasyPrint, which needs Pango from Debian.)

The report holds: the input (file, format, size, SHA-256) and its CRS statement, the geometry
QA (repairs, drops), a map of the parcels over the targets, the summary and per-parcel tables
(m², 公顷, 亩, %), the plan sentences that apply (file + line), and each target's vintage.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from gisapp import __version__ as APP_VERSION
from gisapp.core import paths
from gisapp.core.crs import PROJECTED, WGS84
from gisapp.core.crsinfer import PROJECTED_CRS, WGS84_CRS, transform_geoms
from gisapp.core.registry import Registry, UnknownName
from gisapp.io.writers import WRITERS, Writer, describe_format
from gisapp.store.layerstore import LayerStore

#: Most parcel rows printed in a report table, and most parcels drawn on its map.
REPORT_MAX_ROWS = 500
MAP_MAX_PARCELS = 3000
MAP_W, MAP_H = 680.0, 440.0
_TARGET_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _native(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return None if math.isnan(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _geometries(geoms_wgs84: np.ndarray) -> list[dict[str, Any]]:
    """RFC 7946 geometry objects: exterior rings counter-clockwise, holes clockwise, 7 decimals (~1 cm)."""
    geoms = shapely.transform(shapely.orient_polygons(geoms_wgs84), lambda xy: np.round(xy, 7))
    return [json.loads(g) for g in shapely.to_geojson(geoms)]


def _collection(rows: list[dict[str, Any]], geometries: list[dict[str, Any]]) -> dict[str, Any]:
    """The FeatureCollection of ``rows`` (properties; NaN → null); row ``i`` gets geometry ``i mod n``
    (the long table repeats the parcels once per target)."""
    n = len(geometries)
    features = [
        {"type": "Feature", "properties": {k: _native(v) for k, v in row.items()}, "geometry": geometries[i % n]}
        for i, row in enumerate(rows)
    ]
    return {"type": "FeatureCollection", "features": features}


def feature_collection(result: gpd.GeoDataFrame) -> dict[str, Any]:
    """The result as an RFC 7946 FeatureCollection (dict).

    Args:
        result: the table of :func:`gisapp.analysis.service.overlap_check` (any CRS: taken to EPSG:4326).

    Returns:
        ``{"type": "FeatureCollection", "features": […]}``: lon/lat with 7 decimals (~1 cm),
        exterior rings counter-clockwise, holes clockwise, no ``crs`` member; NaN → null.
    """
    geoms = result.geometry.to_numpy()
    if result.crs is not None and not result.crs.equals(WGS84_CRS):
        geoms = transform_geoms(geoms, result.crs, WGS84)
    rows = [
        {str(k): v for k, v in r.items()} for r in result.drop(columns=result.geometry.name).to_dict(orient="records")
    ]
    return _collection(rows, _geometries(geoms))


def analysis_feature_collection(analysis: Any) -> dict[str, Any]:
    """:func:`feature_collection` straight from a :class:`gisapp.analysis.overlap.OverlapAnalysis`.

    Same features as ``feature_collection(analysis.frame())`` (one per parcel and target,
    target-major), built without pandas: the fast path of small HTTP requests.
    """
    return _collection(analysis.records(), _geometries(transform_geoms(analysis.geometries, PROJECTED_CRS, WGS84)))


@dataclass
class Rendered:
    """One output file: ``body`` (bytes), ``mimetype`` (with charset for text), a suggested ``filename``
    and the ``sidecars`` a file of that format needs beside it (CSV: ``.csvt`` field types and ``.prj``
    CRS, keyed by suffix; written next to the file by the CLI)."""

    body: bytes
    mimetype: str
    filename: str
    sidecars: dict[str, bytes] = field(default_factory=dict)

    @property
    def inline(self) -> bool:
        """True for what a browser shows (JSON, GeoJSON, HTML); other files are attachments."""
        return self.mimetype.split(";")[0] in ("application/json", "application/geo+json", "text/html")

    @property
    def text(self) -> bool:
        """True for text (a ``charset`` in the media type): the CLI may print it."""
        return "charset=" in self.mimetype or self.mimetype == "application/json"


@dataclass(frozen=True)
class ReportWriter:
    """A rendering of an overlap analysis (not a table of features): JSON answer, HTML or PDF report.

    Attributes:
        key: the name users type (``pdf``): the registry key.
        title: English name.
        extension: file-name ending, with the dot.
        media_type: HTTP ``Content-Type`` (with charset for text).
        document: True for the filed report (HTML, PDF; offered by ``/api/overlap/report`` and
            ``--report``).
        render: ``render(result, info, store) -> bytes``; ``result`` is the table or the
            ``OverlapAnalysis``.
    """

    key: str
    title: str
    extension: str
    media_type: str
    document: bool
    render: Callable[[Any, dict[str, Any], LayerStore], bytes]

    def describe(self) -> dict[str, Any]:
        """The format as JSON: key, name, extension, media type, document."""
        return describe_format(self, document=self.document)


def _json(result: Any, info: dict[str, Any], store: LayerStore) -> bytes:
    fc = feature_collection(result) if isinstance(result, gpd.GeoDataFrame) else analysis_feature_collection(result)
    return json.dumps({**info, "parcels": fc}, ensure_ascii=False).encode()


def _html(result: Any, info: dict[str, Any], store: LayerStore) -> bytes:
    return report_html(_table(result), info, store).encode("utf-8")


def _pdf(result: Any, info: dict[str, Any], store: LayerStore) -> bytes:
    return report_pdf(_table(result), info, store)


def _table(result: Any) -> gpd.GeoDataFrame:
    return result if isinstance(result, gpd.GeoDataFrame) else result.frame()


#: Renderings of an overlap analysis, offered by the overlap paths besides :data:`gisapp.io.writers.WRITERS`.
REPORTS: Registry[ReportWriter] = Registry(
    "format",
    (
        ReportWriter("json", "JSON: info and RFC 7946 parcels", ".json", "application/json", False, _json),
        ReportWriter("html", "HTML report", ".html", "text/html; charset=utf-8", True, _html),
        ReportWriter("pdf", "PDF report", ".pdf", "application/pdf", True, _pdf),
    ),
)


def overlap_formats(documents_only: bool = False) -> tuple[str, ...]:
    """The format names an overlap output path offers, in order.

    Args:
        documents_only: only the filed report (``html``, ``pdf``: ``/api/overlap/report``, ``--report``).

    Returns:
        every key of :data:`gisapp.io.writers.WRITERS` then of :data:`REPORTS`; or the document reports.
    """
    if documents_only:
        return tuple(k for k, r in REPORTS.items() if r.document)
    return (*WRITERS.names(), *REPORTS.names())


def overlap_format(value: str | None, documents_only: bool = False) -> Writer | ReportWriter:
    """The writer for a format name given to an overlap path (``None``/``""``: ``json``, or ``pdf``).

    Report names win over the writers' aliases (``json`` is the analysis, not GeoJSON).

    Raises:
        UnknownName: ``unknown_format`` (400), listing :func:`overlap_formats`.
    """
    key = (value or ("pdf" if documents_only else "json")).strip().lower()
    offered = overlap_formats(documents_only)
    if key in REPORTS and key in offered:
        return REPORTS[key]
    if not documents_only:
        try:
            return WRITERS.get_entry(key)
        except UnknownName:
            pass
    raise UnknownName("format", value, offered, "unknown_format")


def render(
    result: Any,
    info: dict[str, Any],
    fmt: str = "json",
    bom: bool = False,
    *,
    store: LayerStore,
    documents_only: bool = False,
) -> Rendered:
    """Encode an overlap result in one of :func:`overlap_formats`.

    Args:
        result, info: from :func:`gisapp.analysis.service.overlap_check` (the table), or from
            :func:`gisapp.analysis.overlap.run_overlap` (an ``OverlapAnalysis``: JSON is then built
            without pandas).
        fmt: a key of :data:`gisapp.io.writers.WRITERS` or :data:`REPORTS` (see the module docstring).
        bom: CSV only: start with a UTF-8 BOM (Excel).
        store: the layer store holding the targets (metadata of files, the report's map).
        documents_only: accept only the filed report (``html``, ``pdf``).

    Returns:
        the :class:`Rendered` file (named ``overlap[_<crs>]<extension>``).

    Raises:
        InputError: ``unknown_format`` (:class:`~gisapp.core.registry.UnknownName`) for any other ``fmt``;
            a writer's errors (e.g. ``mixed_geometry`` for a Shapefile).
    """
    from gisapp.analysis.sources import overlap_frame
    from gisapp.io.formats import OUTPUT_CRS, export_frame, frame_crs

    writer = overlap_format(fmt, documents_only)
    if isinstance(writer, ReportWriter):
        return Rendered(writer.render(result, info, store), writer.media_type, f"overlap{writer.extension}")
    table, metadata = overlap_frame(result, info, store)
    # GeoJSON and KML stay WGS 84 lon/lat (RFC 7946, KML 2.2); the rest keeps the result's CRS.
    lonlat = writer.lonlat_only or writer.key == "geojson"
    out_crs = OUTPUT_CRS["epsg:4326"] if lonlat else frame_crs(table.crs)
    out = export_frame(table, metadata, writer, out_crs, bom=bom, precision=15 if writer.binary else None)
    return Rendered(out.data, out.media_type, out.filename, dict(out.sidecars))


# --------------------------------------------------------------------------- map


@dataclass
class MapLayer:
    """Rings of one map layer in page coordinates (points, y down), with its style."""

    key: str
    label: str
    rings: list[list[np.ndarray]]  # per polygon: [exterior, hole, …]
    fill: str
    fill_opacity: float
    stroke: str
    stroke_width: float


@dataclass
class MapModel:
    """A static map of the parcels over the targets (EPSG:4547, north up).

    Attributes:
        layers: drawn in order (towns, targets, parcels, overlaps).
        labels: ``(x, y, text)`` parcel labels in page coordinates.
        scale_m, scale_px: a round scale-bar length in metres and its length in points.
        caption: what is drawn (and what is left out).
    """

    layers: list[MapLayer]
    labels: list[tuple[float, float, str]]
    scale_m: float
    scale_px: float
    caption: str
    width: float = MAP_W
    height: float = MAP_H


def _page_rings(geoms: np.ndarray, origin: tuple[float, float], k: float) -> list[list[np.ndarray]]:
    x0, y1 = origin
    out = []
    for g in geoms:
        for poly in shapely.get_parts(g):
            if shapely.get_type_id(poly) != 3 or poly.is_empty:
                continue
            rings = [poly.exterior, *poly.interiors]
            out.append(
                [
                    np.column_stack(((np.asarray(r.coords)[:, 0] - x0) * k, (y1 - np.asarray(r.coords)[:, 1]) * k))
                    for r in rings
                ]
            )
    return out


def map_model(result: gpd.GeoDataFrame, info: dict[str, Any], store: LayerStore) -> MapModel:
    """Lay out the report map: the parcels' extent (at least 1 km), targets, towns, overlaps.

    Args:
        result, info: from :func:`gisapp.analysis.service.overlap_check`.
        store: the layer store the targets and towns are re-read from (through the cache of
            :func:`gisapp.analysis.overlap.load_control`).

    Returns:
        the :class:`MapModel` in page points (``MAP_W`` × ``MAP_H``).
    """
    from gisapp.analysis.overlap import load_control, towns_control
    from gisapp.plans.controllines import kind_of_layer

    first = result[result["target"] == result["target"].iloc[0]] if "target" in result else result
    parcels = first if first.crs is not None and first.crs.equals(PROJECTED_CRS) else first.to_crs(PROJECTED)
    geoms = parcels.geometry.to_numpy()
    shown = geoms
    caption = f"{len(geoms)} 宗地 parcels"
    if len(geoms) > MAP_MAX_PARCELS:
        order = np.argsort(-parcels["overlap_m2"].to_numpy())[:MAP_MAX_PARCELS]
        shown = geoms[order]
        caption = f"{MAP_MAX_PARCELS} of {len(geoms)} parcels drawn (largest overlaps first)"
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    # each target read once (for a large layer: the features near the parcels), to frame and to draw the map
    controls = {t["target"]: load_control(t["target"], store, near=geoms) for t in info.get("targets", [])}
    for t in info.get("targets", []):  # show the touched features whole, within 20 km
        touched = set((info.get("summaries") or {}).get(t["target"], {}).get("features_touched", []))
        control = controls[t["target"]]
        hit = control.geometries[np.isin(control.ids, list(touched))]
        if len(hit):
            fx0, fy0, fx1, fy1 = shapely.total_bounds(hit)
            if max(fx1, maxx) - min(fx0, minx) <= 20_000 and max(fy1, maxy) - min(fy0, miny) <= 20_000:
                minx, miny, maxx, maxy = min(fx0, minx), min(fy0, miny), max(fx1, maxx), max(fy1, maxy)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    span = max(maxx - minx, (maxy - miny) * MAP_W / MAP_H, 1000.0) * 1.15
    half_w, half_h = span / 2, span / 2 * MAP_H / MAP_W
    box = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    k = MAP_W / (2 * half_w)
    origin = (box[0], box[3])
    layers: list[MapLayer] = []
    towns = towns_control(store)
    if towns is not None:
        clipped = shapely.clip_by_rect(towns.geometries, *box)
        layers.append(MapLayer("towns", "镇街 towns", _page_rings(clipped, origin, k), "none", 0.0, "#9e9e9e", 0.6))
    for n, t in enumerate(info.get("targets", [])):
        control = controls[t["target"]]
        kind = kind_of_layer(control.layer_id, control.meta)
        colour = kind.style.colour if kind is not None else _TARGET_COLOURS[n % len(_TARGET_COLOURS)]
        clipped = shapely.clip_by_rect(control.geometries, *box)
        layers.append(
            MapLayer(f"target-{n}", f"{t['title']}", _page_rings(clipped, origin, k), colour, 0.18, colour, 1.0)
        )
    layers.append(MapLayer("parcels", "宗地 parcels", _page_rings(shown, origin, k), "#ffffff", 0.0, "#08306b", 1.2))
    labels: list[tuple[float, float, str]] = []
    if len(geoms) <= 60:
        pts = shapely.point_on_surface(geoms)
        for p, pid in zip(pts, parcels["parcel_id"].astype(str)):
            labels.append(((p.x - origin[0]) * k, (origin[1] - p.y) * k, pid))
    nice = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000]
    scale_m = max(v for v in nice if v * k <= MAP_W / 4) if nice[0] * k <= MAP_W / 4 else nice[0]
    return MapModel(layers, labels, float(scale_m), float(scale_m * k), caption + "; EPSG:4547, north up")


def map_svg(model: MapModel) -> str:
    """The map as an inline SVG string (even-odd fill so holes show)."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {model.width:.0f} {model.height:.0f}" '
        f'width="{model.width:.0f}" height="{model.height:.0f}" role="img" aria-label="压占分析图 overlap map">',
        f'<rect x="0" y="0" width="{model.width:.0f}" height="{model.height:.0f}" fill="#fbfbf8" stroke="#444"/>',
    ]
    for layer in model.layers:
        d = []
        for poly in layer.rings:
            for ring in poly:
                d.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in ring) + "Z")
        if d:
            parts.append(
                f'<path class="{layer.key}" d="{" ".join(d)}" fill="{layer.fill}" fill-opacity="{layer.fill_opacity}" '
                f'fill-rule="evenodd" stroke="{layer.stroke}" stroke-width="{layer.stroke_width}"/>'
            )
    for x, y, text in model.labels:
        parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="10" text-anchor="middle" fill="#08306b">{_xml(text)}</text>'
        )
    y = model.height - 14
    parts.append(f'<rect x="12" y="{y - 4:.1f}" width="{model.scale_px:.1f}" height="4" fill="#222"/>')
    parts.append(f'<text x="12" y="{y + 10:.1f}" font-size="9">{model.scale_m:g} m</text>')
    parts.append(f'<text x="{model.width - 20:.0f}" y="22" font-size="12" text-anchor="middle">N ↑</text>')
    parts.append("</svg>")
    return "".join(parts)


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# --------------------------------------------------------------------------- report model


def report_model(result: gpd.GeoDataFrame, info: dict[str, Any], store: LayerStore) -> dict[str, Any]:
    """Everything the report shows, as plain data (used by the HTML template and the PDF).

    Args:
        result, info: from :func:`gisapp.analysis.service.overlap_check`.
        store: the layer store holding the targets (for the map, :func:`map_model`).

    Returns:
        ``{title, generated, version, input, crs, qa, targets, summaries, rows, rows_total,
        rows_truncated, rules, control_lines, towns_layer, map_svg, map_caption, map, warnings}``
        (``control_lines``: each control line's verdicts and citations, see :func:`_control_lines`).
    """
    rows = result.drop(columns=result.geometry.name)
    cols = [
        "parcel_id",
        "target",
        "parcel_area_m2",
        "overlap_m2",
        "overlap_ha",
        "overlap_mu",
        "overlap_pct",
        "features",
        "towns",
    ]
    table = [{c: _native(r.get(c, "")) for c in cols} for r in rows.head(REPORT_MAX_ROWS).to_dict(orient="records")]
    model = map_model(result, info, store)
    warnings = [
        f"{t['title']}：示意数据，非官方 — ILLUSTRATIVE data, not the official layer ({t['geometry_basis']})"
        for t in info.get("targets", [])
        if t.get("illustrative")
    ]
    tl = info.get("towns_layer")
    if tl and tl.get("illustrative"):
        warnings.append(f"{tl['title']}：镇街边界为{tl['geometry_basis']}（示意）— town boundaries are not official")
    return {
        "title": "压占分析报告",
        "title_en": "Parcel overlap report",
        "generated": info.get("generated", ""),
        "version": APP_VERSION,
        "input": info.get("input") or {},
        "crs": info.get("crs") or {"statement": info.get("input_crs", ""), "label": info.get("input_crs", "")},
        "qa": info.get("qa") or {"repairs": info.get("repairs", []), "dropped": [], "notes": [], "sliver_m2": None},
        "targets": info.get("targets", []),
        "summaries": list((info.get("summaries") or {"": info.get("summary", {})}).values()),
        "rows": table,
        "rows_total": int(len(rows)),
        "rows_truncated": len(rows) > REPORT_MAX_ROWS,
        "rules": info.get("rules", []),
        "control_lines": _control_lines(info),
        "towns_layer": tl,
        "map": model,
        "map_svg": map_svg(model),
        "map_caption": model.caption,
        "warnings": warnings,
        "units": info.get("units", ""),
        # the audit record id and store/layer versions of the request that made it (web, accounts on)
        "provenance": info.get("provenance"),
    }


def _control_lines(info: dict[str, Any]) -> dict[str, Any]:
    """``info["control_lines"]`` (:func:`gisapp.analysis.overlap.verdicts.control_line_verdicts`) plus
    ``illustrative``: whether any line judged is illustrative; empty lists when there is none."""
    cl = dict(info.get("control_lines") or {"lines": [], "parcels": [], "parcels_total": 0, "parcels_truncated": False})
    cl["illustrative"] = any(line.get("illustrative") for line in cl.get("lines", []))
    return cl


def report_html(result: gpd.GeoDataFrame, info: dict[str, Any], store: LayerStore) -> str:
    """The report as a self-contained HTML page (UTF-8, print CSS for A4, inline SVG map).

    Rendered with Jinja2 (autoescaped) from ``templates/report/report.html``.
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(paths.templates_dir() / "report")),
        autoescape=select_autoescape(["html"]),
    )
    return env.get_template("report.html").render(r=report_model(result, info, store))


def report_pdf(result: gpd.GeoDataFrame, info: dict[str, Any], store: LayerStore) -> bytes:
    """The report as PDF bytes (A4, reportlab platypus, CID font STSong-Light; see the module docstring)."""
    return build_pdf(report_model(result, info, store))


# --------------------------------------------------------------------------- PDF

_FONT = "STSong-Light"


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if _FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(_FONT))


def _fmt(v: Any, digits: int = 2) -> str:
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return "" if v is None else str(v)


#: Characters outside the Adobe-GB1 set of STSong-Light (they would print as a blank box).
_PDF_REPLACE = str.maketrans({"²": "2", "·": "|", "…": "...", "↑": "^"})


def _pdf_text(text: str) -> str:
    return text.translate(_PDF_REPLACE)


def _alpha(colors: Any, hex_colour: str, alpha: float) -> Any:
    c = colors.HexColor(hex_colour)
    return colors.Color(c.red, c.green, c.blue, alpha=alpha)


def _pdf_control_lines(story: list[Any], cl: dict[str, Any], p: Any, table: Any, h2: Any, warn: Any, base: Any) -> None:
    """The control-line section of the PDF (same content as the HTML's ``#control-lines``)."""
    from reportlab.lib.styles import ParagraphStyle

    h3 = ParagraphStyle("h3", parent=base, fontSize=9.5, leading=13, spaceBefore=5, spaceAfter=2)
    story.append(p("控制线核查 Control lines: verdicts and citations (压覆 / 选址)", h2))
    if cl.get("illustrative"):
        story.append(p("示意控制线的结论仅作演示，非官方结论 — verdicts on ILLUSTRATIVE lines are not official.", warn))
    story.append(
        table(
            ["控制线 Line", "结论 Verdict", "不予通过", "需论证", "需说明", "符合", "不涉及", "依据 Basis"],
            [
                [
                    f"{x['title']} {x['title_en']}",
                    x["worst_zh"],
                    x["counts"]["reject"],
                    x["counts"]["review"],
                    x["counts"]["explain"],
                    x["counts"]["comply"],
                    x["counts"]["none"],
                    "示意，非官方 illustrative" if x["illustrative"] else "官方 official",
                ]
                for x in cl["lines"]
            ],
        )
    )
    for x in cl["lines"]:
        story.append(p(f"{x['title']} {x['title_en']} — 规则与依据 rules and citations ({x['ruleset']})", h3))
        for rule in x["rules"]:
            c = rule["citation"]
            where = rule["citation_label"] + (f" {c['section']}" if c.get("section") else "")
            story.append(
                p(
                    f"{rule['verdict_zh']} · {rule['title']}（{rule['parcels']} 宗 parcels）“{c['quote']}” — {where}；"
                    f"引文核实 citation status: {c['status']}" + (f"；{c['url']}" if c.get("url") else "")
                )
            )
    story.append(p("逐宗地结论 Verdicts per parcel", h3))
    if cl.get("parcels_truncated"):
        story.append(p(f"仅列出前 {len(cl['parcels'])} 宗（共 {cl['parcels_total']} 宗）。"))
    rows = [
        [
            q["parcel_id"],
            e["title"],
            e["overlap_m2"],
            e["overlap_mu"],
            e["overlap_pct"],
            e["verdict_zh"],
            ", ".join(e["rules"]),
        ]
        for q in cl["parcels"]
        for e in (
            q["lines"]
            or [
                {
                    "title": "—",
                    "overlap_m2": "",
                    "overlap_mu": "",
                    "overlap_pct": "",
                    "verdict_zh": "不涉及",
                    "rules": [],
                }
            ]
        )
    ]
    story.append(table(["宗地 Parcel", "控制线 Line", "压占 m²", "亩", "%", "结论 Verdict", "规则 Rules"], rows))


def build_pdf(r: dict[str, Any]) -> bytes:
    """Lay out :func:`report_model`'s data as an A4 PDF.

    Args:
        r: the report model.

    Returns:
        the PDF file's bytes; every text (Chinese included) is real text, extractable.
    """
    from reportlab.graphics.shapes import Drawing, Path, Rect, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    _register_font()
    base = ParagraphStyle("base", fontName=_FONT, fontSize=8.5, leading=11.5, wordWrap="CJK")
    h1 = ParagraphStyle("h1", parent=base, fontSize=16, leading=20, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=base, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=3)
    warn = ParagraphStyle("warn", parent=base, textColor=colors.HexColor("#b00020"))
    cell = ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.5)

    def p(text: Any, style: ParagraphStyle = base) -> Paragraph:
        return Paragraph(_xml(_pdf_text(str(text))), style)

    def table(header: list[str], rows: list[list[Any]], widths: list[float] | None = None) -> Table:
        data = [[p(h, cell) for h in header]] + [[p(_fmt(v), cell) for v in row] for row in rows]
        t = Table(data, colWidths=widths, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#999999")),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return t

    inp, crs, qa = r["input"], r["crs"], r["qa"]
    story: list[Any] = [p(f"{r['title']} {r['title_en']}", h1)]
    story.append(p(f"生成时间 Generated: {r['generated']} · gisapp {r['version']}"))
    prov = r.get("provenance")
    if prov:
        layers = ", ".join(f"{k}@{v[:12]}" for k, v in (prov.get("layers") or {}).items())
        story.append(
            p(
                f"留痕编号 Audit record: {prov['audit_id']} · 图层库版本 Store version {prov.get('store_version')} · {layers}"
            )
        )
    for w in r["warnings"]:
        story.append(p(w, warn))
    story.append(p("1 输入 Input", h2))
    story.append(
        table(
            ["项目 Item", "值 Value"],
            [
                ["文件 File", inp.get("filename") or "（请求正文 request body）"],
                ["格式 Format", inp.get("format", "")],
                ["大小 Size (bytes)", inp.get("bytes", "")],
                ["SHA-256", inp.get("sha256", "")],
                ["坐标系 CRS", crs.get("statement", crs.get("label", ""))],
                ["读取说明 Reader notes", "；".join(inp.get("notes", []))],
            ],
            [35 * mm, 140 * mm],
        )
    )
    story.append(p("2 几何质检 Geometry QA", h2))
    qa_rows = [["修复 repaired", m] for m in qa.get("repairs", [])] + [
        ["剔除 dropped", m] for m in qa.get("dropped", [])
    ]
    qa_rows += [["说明 note", m] for m in qa.get("notes", [])]
    story.append(p(f"碎片阈值 sliver threshold: {qa.get('sliver_m2')} m²（小于此面积的部分或宗地被剔除并列出）"))
    story.append(
        table(
            ["类型 Kind", "说明 Detail"],
            qa_rows or [["—", "无修复、无剔除 nothing repaired or dropped"]],
            [30 * mm, 145 * mm],
        )
    )
    story.append(p("3 图 Map", h2))
    m: MapModel = r["map"]
    scale = (175 * mm) / m.width
    d = Drawing(m.width * scale, m.height * scale)
    frame = Rect(0, 0, m.width * scale, m.height * scale)
    frame.fillColor, frame.strokeColor = colors.HexColor("#fbfbf8"), colors.black
    d.add(frame)
    for layer in m.layers:
        for poly in layer.rings:
            path = Path(
                fillColor=None
                if layer.fill == "none" or layer.fill_opacity == 0
                else _alpha(colors, layer.fill, layer.fill_opacity),
                strokeColor=colors.HexColor(layer.stroke),
                strokeWidth=layer.stroke_width * scale,
                fillMode=0,
            )
            for ring in poly:
                pts = [(x * scale, (m.height - y) * scale) for x, y in ring]
                path.moveTo(*pts[0])
                for pt in pts[1:]:
                    path.lineTo(*pt)
                path.closePath()
            d.add(path)
    for x, y, text in m.labels:
        d.add(String(x * scale, (m.height - y) * scale, text, fontName=_FONT, fontSize=7, textAnchor="middle"))
    bar = Rect(8, 8, m.scale_px * scale, 3)
    bar.fillColor, bar.strokeColor = colors.black, None
    d.add(bar)
    d.add(String(8, 14, f"{m.scale_m:g} m", fontName=_FONT, fontSize=7))
    d.add(String(m.width * scale - 14, m.height * scale - 16, "N", fontName=_FONT, fontSize=9))
    story.append(d)
    legend = "；".join(f"{layer.label}" for layer in m.layers)
    story.append(p(f"{r['map_caption']}。图例 Legend: {legend}"))
    story.append(p("4 汇总 Summary per target", h2))
    story.append(
        table(
            [
                "目标 Target",
                "宗地数 parcels",
                "压占宗地 overlapping",
                "宗地面积 m²",
                "压占 m²",
                "压占 公顷",
                "压占 亩",
                "%",
                "涉及要素 features",
            ],
            [
                [
                    s_.get("target", ""),
                    s_.get("parcel_count", ""),
                    s_.get("overlapping_count", ""),
                    s_.get("parcel_area_m2", ""),
                    s_.get("overlap_m2", ""),
                    s_.get("overlap_ha", ""),
                    s_.get("overlap_mu", ""),
                    s_.get("overlap_pct", ""),
                    ", ".join(s_.get("features_touched", s_.get("blocks_touched", []))),
                ]
                for s_ in r["summaries"]
            ],
        )
    )
    story.append(p("5 逐宗地 Per parcel and target", h2))
    if r["rows_truncated"]:
        story.append(p(f"仅列出前 {len(r['rows'])} 行（共 {r['rows_total']} 行）；完整表见 CSV/GeoJSON 输出。"))
    story.append(
        table(
            ["宗地 Parcel", "目标 Target", "宗地 m²", "压占 m²", "公顷", "亩", "%", "要素 features", "镇街 towns"],
            [
                [
                    row["parcel_id"],
                    row["target"],
                    row["parcel_area_m2"],
                    row["overlap_m2"],
                    row["overlap_ha"],
                    row["overlap_mu"],
                    row["overlap_pct"],
                    row["features"],
                    row["towns"],
                ]
                for row in r["rows"]
            ],
        )
    )
    cl = r.get("control_lines") or {}
    if cl.get("lines"):
        _pdf_control_lines(story, cl, p, table, h2, warn, base)
    story.append(p("6 适用规划条文 Plan sentences that apply", h2))
    for rule in r["rules"] or [{"sentence": "（无 none）", "plan": "", "line": None, "section": "", "note": ""}]:
        where = f"{rule['plan']}" + (f" 第 {rule['line']} 行 line {rule['line']}" if rule.get("line") else "")
        story.append(p(f"“{rule['sentence']}” — {where} {rule.get('section', '')}；{rule.get('note', '')}"))
    story.append(p("7 数据版本 Data vintage", h2))
    vint_rows = []
    for t in r["targets"] + ([r["towns_layer"]] if r["towns_layer"] else []):
        v = t["vintage"]
        vint_rows.append([t["title"], t["geometry_basis"], v["source"], v["datum"], v["layer_file_modified"]])
    story.append(table(["图层 Layer", "依据 basis", "来源 source", "坐标 datum", "文件时间 file time"], vint_rows))
    story.append(Spacer(1, 6))
    story.append(p(f"单位 Units: {r['units']}"))

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=f"{r['title']} {r['title_en']}",
        author="gisapp",
        subject=inp.get("sha256", ""),
    )

    def _footer(canvas: Any, doc_: Any) -> None:
        canvas.saveState()
        canvas.setFont(_FONT, 7)
        canvas.drawString(
            16 * mm,
            8 * mm,
            _pdf_text(
                f"{r['title']} · SHA-256 {inp.get('sha256', '')}"
                + (f" · 留痕 {r['provenance']['audit_id']}" if r.get("provenance") else "")
                + f" · 第 {doc_.page} 页"
            ),
        )
        canvas.restoreState()

    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buf.getvalue()
