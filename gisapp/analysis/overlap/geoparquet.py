"""An overlap result (压占分析) written straight to GeoParquet: the file ``gisapp overlap -o out.parquet`` writes.

The same file as :func:`gisapp.report.overlap_report.render` with ``fmt="parquet"`` (the table of
:meth:`OverlapAnalysis.frame` through :func:`gisapp.io.formats.export_frame` and
:class:`gisapp.io.writers.GeoParquetWriter`), made without the GeoDataFrame and its copies: the
attributes come from :meth:`OverlapAnalysis.attributes`; the geometry is transformed to the output
CRS, given the export steps (:func:`gisapp.io.geoparquet.export_geometries`) and encoded as WKB
chunk by chunk on threads, once for all targets. Coordinates are written as analysed: rounding to
the 15 decimals of a binary export cannot change a coordinate of magnitude over ±8
(:func:`gisapp.io.geoparquet.rounding_is_noop`); where it could, :func:`overlap_geoparquet` answers
None and the caller renders the usual way. ``tests/test_overlap_geoparquet.py`` checks both give the
same table, geometry and metadata.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import shapely

from gisapp.analysis.overlap.result import OverlapAnalysis
from gisapp.analysis.overlap.usecase import output_crs_of, overlap_metadata
from gisapp.core.chunks import trim_heap
from gisapp.core.crs import PROJECTED
from gisapp.core.crsinfer import PROJECTED_CRS, cached_crs, transform_geoms
from gisapp.store.layerstore import LayerStore

#: Decimals of coordinates in binary exports (as :func:`gisapp.report.overlap_report.render` writes them).
BINARY_PRECISION = 15


class _RoundingMatters(Exception):  # noqa: N818 - a signal, not an error users see
    """Raised inside a chunk when rounding would change coordinates (the fast path does not apply)."""


def _no_rows(analysis: OverlapAnalysis) -> OverlapAnalysis:
    """The analysis with no parcel (every per-parcel array or frame cut to length 0): its table's columns, cheaply."""
    n = len(analysis.ids)

    def cut(obj: Any) -> Any:
        changes = {}
        for f in fields(obj):
            value = getattr(obj, f.name)
            if isinstance(value, np.ndarray | pd.DataFrame) and len(value) == n:
                changes[f.name] = value[:0]
        return replace(obj, **changes)

    out = cut(analysis)
    out.targets = [cut(t) for t in analysis.targets]
    return out


@dataclass
class OverlapGeoParquet:
    """An overlap result ready to be written as GeoParquet (:func:`overlap_geoparquet`); :meth:`write` writes it.

    Attributes:
        analysis: the result (its geometries may have been released: see ``consume``).
        column: the encoded geometry, in the output CRS.
        crs: the output CRS.
        metadata: the ``gisapp`` record. Nothing on this path is snap-rounded (a result that would need
            it takes the rendered path), so the export's ``snap_rounded`` is always empty.
    """

    analysis: OverlapAnalysis
    column: Any
    crs: Any
    metadata: dict[str, Any]

    def write(self, target: str | Path | BinaryIO) -> None:
        """Write the file to a path or a binary file object (one that can ``tell``, e.g. an open file)."""
        from gisapp.io.geoparquet import write_geoparquet
        from gisapp.io.writers import GeoParquetWriter, WriteOptions

        # one target at a time: the table of parcels × targets is never whole in memory
        per_target = (replace(self.analysis, targets=[t]).attributes() for t in self.analysis.targets)
        write_geoparquet(
            per_target,
            self.column,
            self.crs,
            target,
            metadata=GeoParquetWriter.metadata_entry(WriteOptions("overlap", self.metadata, BINARY_PRECISION)),
            attrs={"snap_rounded": []},
        )

    def to_bytes(self) -> bytes:
        """The file's bytes."""
        buf = io.BytesIO()
        self.write(buf)
        return buf.getvalue()


def overlap_geoparquet(
    analysis: OverlapAnalysis,
    info: dict[str, Any],
    store: LayerStore,
    output_crs: str | None,
    workers: int | None = None,
    consume: bool = False,
) -> OverlapGeoParquet | None:
    """An overlap result as GeoParquet, in the output CRS the caller chose (encoded; written by :meth:`OverlapGeoParquet.write`).

    Args:
        analysis, info: from :func:`gisapp.analysis.overlap.run_overlap`.
        store: the layer store holding the targets (the control layer's metadata heads the record).
        output_crs: as :func:`gisapp.analysis.overlap.output_crs_of` takes it (a CRS, None = EPSG:4547,
            ``"input"``).
        workers: threads (default: CPU count).
        consume: release ``analysis.geometries`` once encoded (a caller that needs them no more: the
            memory of a million parcels' GEOS objects is given back before the table is built).

    Returns:
        the :class:`OverlapGeoParquet`, or None when this path does not apply (GCJ-02/BD-09 or
        EPSG:4490 output, coordinates that rounding would change): render the table with
        :func:`gisapp.report.overlap_report.render` then.

    Raises:
        LayerNotFound: the control layer is gone from the store.
    """
    from gisapp.io.formats import export_metadata, frame_crs
    from gisapp.io.geoparquet import export_geometries, rounding_is_noop, wkb_column
    from gisapp.io.writers import WRITERS

    crs = output_crs_of(output_crs, info)
    file_crs = cached_crs(crs or PROJECTED)
    out_crs = frame_crs(file_crs)
    same = out_crs.epsg not in (4326, 4490) and file_crs.equals(out_crs.pyproj())
    if out_crs.datum is not None or not (same or out_crs.epsg == 4326):
        return None

    def chunk(geoms: np.ndarray) -> np.ndarray:
        reprojected = crs not in (None, PROJECTED)
        if crs is not None and reprojected:  # (crs is not None: for the type checker)
            with np.errstate(all="ignore"):
                geoms = transform_geoms(geoms, PROJECTED_CRS, crs)
        if not rounding_is_noop(geoms, BINARY_PRECISION):
            raise _RoundingMatters
        # the parcels are valid (QA repairs them); a reprojection or the export steps may break one, and
        # then the export's snap rounding (:func:`gisapp.io.formats.round_valid`) must decide: the slow path
        if reprojected and not shapely.is_valid(geoms).all():
            raise _RoundingMatters
        out, broke = export_geometries(geoms)
        if broke.any():
            raise _RoundingMatters
        return out

    try:
        column = wkb_column(analysis.geometries, workers, transform=chunk)
    except _RoundingMatters:
        return None
    n, k = len(analysis.ids), len(analysis.targets)
    if consume:
        analysis.geometries = np.empty(0, dtype=object)
        trim_heap()
    columns = list(_no_rows(analysis).attributes().columns)
    metadata = export_metadata(
        overlap_metadata(info, store), WRITERS["parquet"], out_crs, BINARY_PRECISION, n * k, None, columns
    )
    return OverlapGeoParquet(analysis, column, file_crs, metadata)
