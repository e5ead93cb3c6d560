"""Accounting use cases shared by the CLI (``gisapp accounting …``) and the web layer (``/accounting``).

Each function reads the rule set (``rules/``), the layers it names from the layer store, and
optional user files, calls the core, and returns plain JSON-ready data: the ``to_json_dict()`` of a
result model of :mod:`gisapp.analysis.accounting.results`. Nothing here writes to
the layer store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio

from gisapp.analysis.accounting import adjustments, landuse, rules, tables
from gisapp.analysis.accounting.results import AccountingReport, BlockRef, VersionComparison
from gisapp.analysis.parcels import parse_geojson_parcels
from gisapp.core.crs import to_wgs84
from gisapp.core.errors import READ_ERRORS, InputError
from gisapp.core.limits import Limits
from gisapp.store.layerstore import LayerStore

SUPPLIED = "supplied"


@dataclass(frozen=True)
class Upload:
    """A file a user sent over HTTP (multipart): read by the input Readers with their checks.

    Attributes:
        data: the file's bytes (any format of :data:`gisapp.io.readers.readers.READERS`: GeoJSON,
            zipped Shapefile, GeoPackage, zipped File Geodatabase …).
        filename: the name it was sent with (a hint for the format).
        limits: the request's bounds (:class:`gisapp.core.limits.Limits`; None: the defaults).
    """

    data: bytes
    filename: str
    limits: Limits | None = None


def _read_upload(upload: Upload, what: str) -> gpd.GeoDataFrame:
    """Polygons of an uploaded file in EPSG:4326; a 三调 File Geodatabase gives its ``DLTB`` layer.

    Raises:
        InputError: the Readers' errors; ``missing_crs`` when the file declares no CRS.
    """
    from gisapp.io.readers import read_input

    raw, _ = read_input(upload.data, upload.filename, limits=upload.limits, preferred=("DLTB",))
    if raw.crs is None:
        raise InputError(f"the {what} {upload.filename or ''} declares no CRS".replace("  ", " "), code="missing_crs")
    frame = gpd.GeoDataFrame(raw.properties, geometry=list(raw.geometries), crs=raw.crs)
    return to_wgs84(frame[frame.geometry.notna()])


def read_vector(data: bytes | str | Path | Upload, what: str) -> gpd.GeoDataFrame:
    """Read polygons supplied by a user: GeoJSON text/bytes, or a file path (GeoJSON, GeoPackage, Shapefile,
    zipped File Geodatabase: its ``DLTB`` feature class when it has several polygon layers).

    A path is opened only by GDAL's GeoPackage or Shapefile driver (the process-wide policy of
    :mod:`gisapp.io.gdalpolicy` has no VRT driver and no network), and a GeoPackage's schema is
    checked first (:func:`gisapp.io.readers.safety.check_gpkg`).

    Args:
        data: GeoJSON (bytes/str; RFC 7946 or a legacy ``crs`` member), a :class:`~pathlib.Path`, or an
            :class:`Upload` (any input format, read by the Readers in the isolated child).
        what: what it is, for error messages (``"land-use layer"``).

    Returns:
        GeoDataFrame in EPSG:4326 with the input properties.

    Raises:
        InputError: ``missing_file``, ``unreadable_file``, ``unsupported_format`` (415), ``invalid_gpkg``,
            ``missing_crs`` and the GeoJSON errors of :func:`gisapp.analysis.parcels.parse_geojson_parcels`.
    """
    from gisapp.io.readers.safety import check_driver, check_gpkg, scrub

    if isinstance(data, Upload):
        return _read_upload(data, what)
    if isinstance(data, Path):
        if not data.is_file():
            raise InputError(f"no such file: {data}", code="missing_file")
        if data.suffix.lower() in (".geojson", ".json"):
            return parse_geojson_parcels(data.read_bytes()).parcels
        if data.suffix.lower() == ".zip" and _is_filegdb_zip(data.read_bytes()):  # 三调: its DLTB layer
            from gisapp.io.readers.ogr import read_ogr

            raw = read_ogr(data.read_bytes(), "filegdb", data.name, preferred=("DLTB",))
            frame = gpd.GeoDataFrame(raw.properties, geometry=list(raw.geometries), crs=raw.crs)
            return to_wgs84(frame)
        label = f"the {what} {data.name}"
        if data.suffix.lower() == ".gpkg":
            check_gpkg(data, label)
        check_driver(data, None, ("GPKG", "ESRI Shapefile"), label, data.parent)
        try:
            gdf = pyogrio.read_dataframe(data)
        except READ_ERRORS as exc:
            msg = scrub(str(exc), data.parent, data.name)
            raise InputError(f"cannot read {label}: {msg}", code="unreadable_file") from exc
        return to_wgs84(gdf)
    return parse_geojson_parcels(data).parcels


def _is_filegdb_zip(data: bytes) -> bool:
    """True when ``data`` is a zip holding a ``.gdb`` folder (:func:`gisapp.io.readers.safety.gdb_folder`)."""
    from gisapp.io.readers.safety import gdb_folder, open_zip

    return gdb_folder(open_zip(data).namelist()) is not None


def _context(
    ruleset_id: str, line: bytes | str | Path | Upload | None, store: LayerStore
) -> tuple[rules.RuleSet, gpd.GeoDataFrame, gpd.GeoDataFrame, str, str]:
    ruleset = rules.load_ruleset(ruleset_id)
    if line is None:
        raw = store.read(ruleset.line_layer)
        basis = store.meta(ruleset.line_layer).geometry_basis
        layer_id = ruleset.line_layer
    else:
        raw = read_vector(line, "control line")
        basis, layer_id = (
            SUPPLIED,
            (
                line.name
                if isinstance(line, Path)
                else (line.filename if isinstance(line, Upload) else "") or "uploaded line"
            ),
        )
    prepared = tables.prepare_line(raw, ruleset)
    units = tables.prepare_units(store.read(ruleset.units_layer), ruleset)
    return ruleset, prepared, units, basis, layer_id


def stored_landuse(store: LayerStore, layer_id: str, units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The features of a stored land-use layer (file or large) within the extent of ``units``.

    A large layer (a million 图斑 in GeoPackage or PostGIS) is read through its spatial index by the
    units' bbox (:meth:`gisapp.store.layerstore.LayerStore.query`), never whole beyond that extent.

    Args:
        store: the layer store. layer_id: the land-use layer. units: the accounting units (any CRS).

    Returns:
        the features (EPSG:4326) whose geometry intersects the units' bbox.

    Raises:
        InputError: ``layer_not_found`` (404), invalid id.
    """
    b = units.to_crs("EPSG:4326").total_bounds
    return store.query(layer_id, (float(b[0]), float(b[1]), float(b[2]), float(b[3])))


def _structure(
    ruleset: rules.RuleSet, structure_id: str | None, store: LayerStore
) -> tuple[gpd.GeoDataFrame | None, str]:
    sid = ruleset.structure if structure_id is None else structure_id
    if not sid:
        return None, ""
    return store.read(sid), sid


def _basis_for_flags(basis: str) -> str:
    # a user-supplied line is taken at the user's word: not flagged as illustrative
    return "official" if basis == SUPPLIED else basis


def report(
    ruleset_id: str = rules.DEFAULT_RULESET,
    *,
    store: LayerStore,
    structure_id: str | None = None,
    margin_pct: float | None = None,
    progress: Mapping[str, Any] | None = None,
    line: bytes | str | Path | Upload | None = None,
    landuse_data: bytes | str | Path | Upload | None = None,
    class_field: str | None = None,
    dictionary_id: str | None = None,
    industrial_codes: list[str] | None = None,
    landuse_layer: str | None = None,
) -> dict[str, Any]:
    """The control-line report of a rule set: totals, tiers, floor, headroom, status, per-unit and
    per-zone tables, rule verdicts with citations; with a land-use layer also the class tables.

    Args:
        ruleset_id: a file in ``rules/`` (default ``zhongshan-industrial-redline``).
        store: the layer store the line, the units and the structure come from.
        structure_id: structure layer for the per-zone table (None: the rule set's; ``""``: none).
        margin_pct: colour-status margin, overriding the rule set's.
        progress: user-reported figures (see :func:`gisapp.analysis.accounting.rules.evaluate_rules`).
        line: a control line to use instead of the stored layer (GeoJSON, a file path or an :class:`Upload`).
        landuse_data: a land-use layer (GeoJSON, a file path or an :class:`Upload`, e.g. a zipped 三调
            File Geodatabase: its DLTB layer) with ``class_field``.
        class_field: the class column of the land-use layer (required with ``landuse_data``, except
            for a 三调 DLTB layer: then ``DLBM``, see :func:`gisapp.analysis.accounting.landuse.resolve_class_field`).
        dictionary_id: the land-use dictionary (default: the rule set's; GB/T 21010-2017 for a DLTB
            layer given without ``class_field``).
        industrial_codes: code prefixes that override the rule set's industrial predicate.
        landuse_layer: a stored land-use layer instead of ``landuse_data``, e.g. a large 三调 DLTB
            (:func:`stored_landuse`: only its features within the units' extent are read).

    Returns:
        :class:`~gisapp.analysis.accounting.results.AccountingReport` as a JSON-ready dict: the line's
        accounting plus ``source_line`` (stored/supplied), ``unit_areas`` (every unit, planar and
        ellipsoidal), ``landuse`` (or None) and ``blocks``.

    Raises:
        InputError: unknown rule set, layer, dictionary or field; bad files; bad progress figures.
    """
    ruleset, prepared, units, basis, layer_id = _context(ruleset_id, line, store)
    structure, sid = _structure(ruleset, structure_id, store)
    lu = None
    if landuse_data is not None or landuse_layer is not None:
        lu_frame = (
            stored_landuse(store, landuse_layer, units)
            if landuse_layer is not None
            else read_vector(landuse_data, "land-use layer")  # type: ignore[arg-type]  # not None here
        )
        class_field, dictionary_id = landuse.resolve_class_field(lu_frame.columns, class_field, dictionary_id)
        dictionary = landuse.load_dictionary(dictionary_id or ruleset.landuse_dictionary)
        lu = landuse.landuse_accounting(
            lu_frame,
            class_field,
            dictionary,
            landuse.predicate_for(ruleset, dictionary, industrial_codes),
            prepared,
            units,
            structure=structure,
            method=ruleset.verdict_area,
            industrial_note=ruleset.industrial.get("note", ""),
            industrial_citation=ruleset.industrial.get("citation"),
        )
    accounting = tables.line_accounting(
        prepared,
        units,
        ruleset,
        geometry_basis=_basis_for_flags(basis),
        layer_id=layer_id,
        structure=structure,
        structure_id=sid,
        margin_pct=margin_pct,
        progress=progress,
        landuse_shares=lu.shares.for_rules() if lu is not None else None,
    )
    return AccountingReport(
        **dict(accounting),
        source_line="stored layer" if line is None else "supplied file",
        unit_areas=tables.unit_areas(units),
        landuse=lu,
        blocks=[BlockRef(block_id=b, tier=t) for b, t in zip(prepared["block_id"], prepared["tier"])],
    ).to_json_dict()


def adjust(
    ruleset_id: str,
    proposal: bytes | str | Mapping[str, Any],
    *,
    store: LayerStore,
    margin_pct: float | None = None,
    progress: Mapping[str, Any] | None = None,
    line: bytes | str | Path | None = None,
) -> dict[str, Any]:
    """What a 占补平衡 proposal would do to the line (nothing is stored).

    Args:
        ruleset_id: the rule set.
        proposal: JSON ``{"remove_ids", "remove", "add"}`` (see :func:`gisapp.analysis.accounting.adjustments.parse_proposal`).
        store, margin_pct, progress, line: as for :func:`report`.

    Returns:
        :class:`~gisapp.analysis.accounting.results.AdjustmentReport` as a JSON-ready dict, with ``layer``,
        ``illustrative`` and ``warning`` set.

    Raises:
        InputError: a malformed proposal, unknown block ids, or an adjustment that empties the line.
    """
    ruleset, prepared, units, basis, layer_id = _context(ruleset_id, line, store)
    parsed = adjustments.parse_proposal(proposal)
    out = adjustments.adjustment_report(
        prepared,
        parsed,
        units,
        ruleset,
        geometry_basis=_basis_for_flags(basis),
        layer_id=layer_id,
        margin_pct=margin_pct,
        progress=progress,
    )
    return out.model_copy(
        update={"layer": layer_id, "illustrative": out.after.illustrative, "warning": out.after.warning}
    ).to_json_dict()


def compare(
    ruleset_id: str,
    other: bytes | str | Path,
    *,
    store: LayerStore,
    base: bytes | str | Path | None = None,
) -> dict[str, Any]:
    """Compare two versions of a control line: ``base`` (default: the stored layer) → ``other``.

    Args:
        ruleset_id: the rule set (layer, id and tier fields, units).
        other: the new version (GeoJSON or a file path).
        base: the old version (default: the stored layer).
        store: the layer store.

    Returns:
        :class:`~gisapp.analysis.accounting.results.VersionComparison` as a JSON-ready dict.
    """
    ruleset, old, units, basis, layer_id = _context(ruleset_id, base, store)
    new = tables.prepare_line(read_vector(other, "control line"), ruleset)
    illustrative = _basis_for_flags(basis) != "official"
    return VersionComparison(
        **dict(adjustments.compare_versions(old, new, units)),
        old=layer_id,
        new=other.name if isinstance(other, Path) else "uploaded line",
        unit_label=ruleset.unit_label,
        illustrative=illustrative,
        warning=tables.ILLUSTRATIVE_WARNING if illustrative else "",
    ).to_json_dict()


def ruleset_index() -> list[dict[str, Any]]:
    """Every rule set (id, city, title, layer, rules with citations), for listings."""
    return [rs.to_dict() for rs in rules.list_rulesets()]


def dictionary_index() -> list[dict[str, Any]]:
    """Every land-use dictionary's summary (identity, sources, class counts by status)."""
    return [d.summary() for d in landuse.list_dictionaries()]
