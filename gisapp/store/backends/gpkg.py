"""The embedded large-layer backend: one GeoPackage per layer, queried through its R-tree.

A layer ``<id>`` is the file ``<folder>/<id>.gpkg`` (OGC GeoPackage 1.3, written by GDAL's GPKG
driver through pyogrio) holding one table ``features``: ``fid`` (1-based, the import order), the
attribute columns and ``geom`` (EPSG:4326), with the GeoPackage R-tree spatial index
``rtree_features_geom`` (OGC 12-128r18, extension ``gpkg_rtree_index``).

* Writes go to a hidden temporary file in the same folder, which :func:`os.replace` puts in place
  once complete: readers see the old file or the new one (an open reader keeps the old inode).
* Bbox queries ask the R-tree for candidates (float32 envelopes, rounded outwards, so a superset);
  candidates whose envelope lies inside the bbox match without reading their geometry, the others
  are tested exactly (:func:`shapely.intersects`). Cost grows with the result, not the layer.
* Pages are by fid order.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from gisapp.store.backends.base import BBox
from gisapp.store.backends.mvt import check_tile, encode_tile, tile_bbox_4326

TABLE = "features"
GEOMETRY = "geom"
FID = "fid"
_RTREE = f"rtree_{TABLE}_{GEOMETRY}"
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_WGS84 = CRS.from_epsg(4326)
#: Above this many features a bbox read goes through GDAL's spatial filter (one R-tree join)
#: instead of fetching the features one by one by fid.
_BULK = 2_000
#: fids per ``IN (…)`` list sent to SQLite.
_BATCH = 5_000
#: Up to this many features are read by fid one by one (GDAL's GetFeature), more with ``fid IN (…)`` lists
#: of :data:`_IN_BATCH`.
_BY_ID = 500
_IN_BATCH = 50_000
# GeoPackage geometry blob header: "GP", version, flags; envelope size by the flags' bits 1-3.
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _gpkg_wkb(blob: bytes) -> bytes:
    """The WKB inside a GeoPackage geometry blob (OGC 12-128r18 §2.1.3)."""
    flags = blob[3]
    return blob[8 + _ENVELOPE_BYTES[(flags >> 1) & 0x07] :]


class GpkgBackend:
    """Large layers as GeoPackage files in one folder (see the module docstring).

    Implements :class:`gisapp.store.backends.base.FeatureBackend`; all geometries EPSG:4326.

    Args:
        folder: where the ``<id>.gpkg`` files live (created on the first write), e.g.
            ``<layers_dir>/large``.
    """

    name = "gpkg"

    def __init__(self, folder: Path) -> None:
        """Args: folder: the folder of the layers' ``.gpkg`` files."""
        self.folder = Path(folder)

    def __repr__(self) -> str:
        """``GpkgBackend('/path')``."""
        return f"GpkgBackend({str(self.folder)!r})"

    # -- files ------------------------------------------------------------------------------
    def path(self, layer_id: str) -> Path:
        """The ``.gpkg`` file of ``layer_id`` (it may not exist).

        Raises:
            KeyError: ``layer_id`` is not a valid layer id (lower-case letters, digits, ``-``).
        """
        if not _ID_RE.match(layer_id):
            raise KeyError(layer_id)
        return self.folder / f"{layer_id}.gpkg"

    def _existing(self, layer_id: str) -> Path:
        path = self.path(layer_id)
        if not path.is_file():
            raise KeyError(layer_id)
        return path

    @contextmanager
    def _sql(self, layer_id: str) -> Iterator[sqlite3.Connection]:
        # immutable: files are never changed in place, only replaced (no locking, no journal reads)
        uri = f"file:{self._existing(layer_id)}?mode=ro&immutable=1"
        with closing(sqlite3.connect(uri, uri=True)) as con:
            yield con

    def layers(self) -> list[str]:
        """Layer ids held by this backend, sorted."""
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.gpkg") if _ID_RE.match(p.stem))

    # -- writes -------------------------------------------------------------------------------
    def write(self, layer_id: str, chunks: Iterable[gpd.GeoDataFrame]) -> int:
        """Replace ``layer_id`` atomically with the concatenation of ``chunks``.

        Args:
            layer_id: the layer.
            chunks: EPSG:4326 frames of one schema (same columns and dtypes); at least one (it may
                be empty: the layer then has the schema and no features).

        Returns:
            the feature count.

        Raises:
            ValueError: a chunk not in EPSG:4326, with another schema, or no chunk at all. Whatever
                the error (also from GDAL or from the iterator), the old layer stays as it was.
        """
        target = self.path(layer_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{layer_id}.", suffix=".gpkg", dir=self.folder)
        os.close(fd)
        tmp = Path(name)
        tmp.unlink()  # GDAL creates the file itself
        count = 0
        schema: list[tuple[str, str]] | None = None
        try:
            for chunk in chunks:
                if chunk.crs is None or not CRS.from_user_input(chunk.crs).equals(_WGS84):
                    raise ValueError(f"layer {layer_id}: a chunk is in {chunk.crs}, not EPSG:4326")
                cols = [(str(c), str(chunk[c].dtype)) for c in chunk.columns if c != chunk.geometry.name]
                if schema is None:
                    schema = cols
                elif cols != schema:
                    raise ValueError(f"layer {layer_id}: a chunk has columns {cols}, the first had {schema}")
                frame = chunk.rename_geometry(GEOMETRY) if chunk.geometry.name != GEOMETRY else chunk
                pyogrio.write_dataframe(
                    frame.reset_index(drop=True),
                    tmp,
                    layer=TABLE,
                    driver="GPKG",
                    append=schema is not None and tmp.exists(),
                    geometry_type="Unknown",
                    promote_to_multi=False,  # a Polygon stays a Polygon (as in the file layers and PostGIS)
                    layer_options={"SPATIAL_INDEX": "YES", "FID": FID, "GEOMETRY_NAME": GEOMETRY},
                )
                count += len(chunk)
            if schema is None:
                raise ValueError(f"layer {layer_id}: no data to write")
            tmp.chmod(0o644)
            os.replace(tmp, target)
        finally:
            for leftover in (tmp, tmp.with_name(tmp.name + "-journal"), tmp.with_name(tmp.name + "-wal")):
                leftover.unlink(missing_ok=True)
        return count

    def drop(self, layer_id: str) -> None:
        """Remove ``layer_id`` (no error when absent)."""
        self.path(layer_id).unlink(missing_ok=True)

    # -- metadata ----------------------------------------------------------------------------
    def columns(self, layer_id: str) -> dict[str, str]:
        """Attribute columns and their pandas dtypes (``fid`` and the geometry excluded)."""
        empty = self._read(self._existing(layer_id), None, max_features=1)  # the dtypes queries return
        return {str(c): str(empty[c].dtype) for c in empty.columns if c != empty.geometry.name}

    def bounds(self, layer_id: str) -> BBox:
        """Extent of the layer in EPSG:4326 degrees (``gpkg_contents``, kept by GDAL on write)."""
        with self._sql(layer_id) as con:
            row = con.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?", (TABLE,))
            b = row.fetchone()
        if b is None or any(v is None for v in b):
            return (0.0, 0.0, 0.0, 0.0)
        return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))

    # -- queries ------------------------------------------------------------------------------
    def _total(self, con: sqlite3.Connection) -> int:
        try:
            row = con.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = ?", (TABLE,)).fetchone()
        except sqlite3.OperationalError:
            row = None
        if row is None or row[0] is None:
            row = con.execute(f'SELECT COUNT(*) FROM "{TABLE}"').fetchone()
        return int(row[0])

    def _match(self, con: sqlite3.Connection, bbox: BBox) -> np.ndarray:
        """Sorted fids of the features whose geometry intersects ``bbox``."""
        x0, y0, x1, y1 = (float(v) for v in bbox)
        rows = con.execute(
            f'SELECT id, minx, miny, maxx, maxy FROM "{_RTREE}" WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?',
            (x1, x0, y1, y0),
        ).fetchall()
        if not rows:
            return np.empty(0, dtype=np.int64)
        env = np.asarray(rows, dtype=np.float64)
        ids = env[:, 0].astype(np.int64)
        inside = (env[:, 1] >= x0) & (env[:, 2] >= y0) & (env[:, 3] <= x1) & (env[:, 4] <= y1)
        edge = ids[~inside]
        hits = [ids[inside]]
        box = shapely.box(x0, y0, x1, y1)
        for k in range(0, len(edge), _BATCH):
            part = ",".join(str(int(i)) for i in edge[k : k + _BATCH])
            got = con.execute(f'SELECT "{FID}", "{GEOMETRY}" FROM "{TABLE}" WHERE "{FID}" IN ({part})').fetchall()
            if not got:
                continue
            fids = np.fromiter((r[0] for r in got), dtype=np.int64, count=len(got))
            geoms = shapely.from_wkb([_gpkg_wkb(r[1]) for r in got])
            hits.append(fids[shapely.intersects(geoms, box)])
        return np.sort(np.concatenate(hits))

    def fids_in_boxes(self, layer_id: str, boxes: Iterable[BBox]) -> np.ndarray:
        """Sorted fids of the features whose R-tree envelope meets any of ``boxes`` (EPSG:4326): a
        superset of those intersecting them, found without reading a geometry (e.g. the targets near
        10 000 parcels: one R-tree lookup per parcel). Optional backend capability, used by
        :meth:`gisapp.store.layerstore.LayerStore.query_boxes`.

        Raises:
            KeyError: unknown layer.
        """
        sql = f'SELECT id FROM "{_RTREE}" WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?'
        found: set[int] = set()
        with self._sql(layer_id) as con:
            for x0, y0, x1, y1 in boxes:
                found.update(r[0] for r in con.execute(sql, (x1, x0, y1, y0)))
        return np.array(sorted(found), dtype=np.int64)

    def _present(self, con: sqlite3.Connection, fids: np.ndarray) -> np.ndarray:
        """The fids of ``fids`` (sorted, unique) that the layer holds."""
        found = []
        for k in range(0, len(fids), _BATCH):
            part = ",".join(str(int(i)) for i in fids[k : k + _BATCH])
            found += [r[0] for r in con.execute(f'SELECT "{FID}" FROM "{TABLE}" WHERE "{FID}" IN ({part})')]
        return np.sort(np.asarray(found, dtype=np.int64))

    def _covers(self, layer_id: str, bbox: BBox | None) -> bool:
        """Whether ``bbox`` holds the whole layer (then it selects every feature: no index look-up)."""
        if bbox is None:
            return True
        x0, y0, x1, y1 = self.bounds(layer_id)
        return bool(bbox[0] <= x0 and bbox[1] <= y0 and bbox[2] >= x1 and bbox[3] >= y1)

    def count(self, layer_id: str, bbox: BBox | None = None) -> int:
        """Number of features, or of features whose geometry intersects ``bbox`` (EPSG:4326)."""
        covers = self._covers(layer_id, bbox)
        with self._sql(layer_id) as con:
            return self._total(con) if covers or bbox is None else len(self._match(con, bbox))

    def _read(self, path: Path, columns: list[str] | None, **kwargs: object) -> gpd.GeoDataFrame:
        gdf = pyogrio.read_dataframe(path, layer=TABLE, columns=columns, fid_as_index=True, **kwargs)
        gdf.index = gdf.index.astype(np.int64)
        gdf.index.name = FID
        if gdf.crs is None:
            gdf = gdf.set_crs(_WGS84)
        for name in gdf.columns:  # text with nulls comes back as object: str, as the PostGIS backend gives it
            if name != gdf.geometry.name and gdf[name].dtype == object:
                gdf[name] = gdf[name].astype("str")
        return gdf

    def _by_fids(self, path: Path, fids: np.ndarray, columns: list[str] | None, bbox: BBox | None) -> gpd.GeoDataFrame:
        if len(fids) == 0:
            return self._read(path, columns, where=f'"{FID}" < 0')
        if bbox is not None and len(fids) > _BULK:
            gdf = self._read(path, columns, bbox=tuple(bbox))
            return gdf.loc[gdf.index.intersection(pd.Index(fids))].sort_index()
        if len(fids) <= _BY_ID:  # a page: one indexed look-up per feature
            return self._read(path, columns, fids=fids)
        parts = []  # many: one SQL query per batch (several times faster than a look-up each)
        for k in range(0, len(fids), _IN_BATCH):
            ids = ",".join(str(int(i)) for i in fids[k : k + _IN_BATCH])
            parts.append(self._read(path, columns, where=f'"{FID}" IN ({ids})'))
        return (parts[0] if len(parts) == 1 else pd.concat(parts)).sort_index()

    def query(
        self,
        layer_id: str,
        bbox: BBox | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
        columns: list[str] | None = None,
        fids: list[int] | None = None,
    ) -> gpd.GeoDataFrame:
        """Features intersecting ``bbox`` (all when None), ordered by fid, ``limit`` from ``offset``;
        ``columns`` limits the attributes (None = all); ``fids`` selects by id. Index: the fid; EPSG:4326.

        Raises:
            KeyError: unknown layer. ValueError: a negative ``offset``/``limit`` or an unknown column.
        """
        if offset < 0 or (limit is not None and limit < 0):
            raise ValueError("offset and limit must be ≥ 0")
        path = self._existing(layer_id)
        if columns is not None:
            unknown = [c for c in columns if c not in self.columns(layer_id)]
            if unknown:
                raise ValueError(f"layer {layer_id} has no column {unknown[0]!r}")
        end = None if limit is None else offset + limit
        if fids is None and self._covers(layer_id, bbox):  # every feature: pages by position
            if limit is None and offset == 0:
                return self._read(path, columns)
            with self._sql(layer_id) as con:
                total = self._total(con)
            if offset >= total or limit == 0:
                return self._by_fids(path, np.empty(0, dtype=np.int64), columns, None)
            return self._read(path, columns, skip_features=offset, max_features=limit)
        with self._sql(layer_id) as con:
            selected = self._match(con, bbox) if bbox is not None else None
            if fids is not None:
                wanted = self._present(con, np.unique(np.asarray(fids, dtype=np.int64)))
                selected = wanted if selected is None else np.intersect1d(selected, wanted)
        assert selected is not None
        return self._by_fids(path, selected[offset:end], columns, bbox)

    def tile(self, layer_id: str, z: int, x: int, y: int, *, columns: list[str] | None = None) -> bytes:
        """Mapbox Vector Tile of XYZ tile ``z/x/y`` (see :func:`gisapp.store.backends.mvt.encode_tile`);
        ``b""`` when no feature falls in it.

        Raises:
            KeyError: unknown layer. ValueError: a tile address outside the grid.
        """
        check_tile(z, x, y)
        gdf = self._read(self._existing(layer_id), columns, bbox=tile_bbox_4326(z, x, y))
        return encode_tile(gdf, layer_id, z, x, y)
