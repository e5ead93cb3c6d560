"""The PostGIS backend: large layers in PostgreSQL + PostGIS, one table per layer.

A layer ``<id>`` is the table ``<schema>."<id>"`` (default schema ``gisapp``) with the columns
``fid bigint primary key`` (1-based, the order of import), the attribute columns, and
``geom geometry(Geometry, 4326)`` with a GiST index. The table's comment holds what the
:class:`~gisapp.store.backends.base.FeatureBackend` interface reports without scanning: the pandas
dtype of every attribute, the feature count and the extent (JSON).

* **Writes** (:meth:`PostgisBackend.write`) stream the chunks with ``COPY … FROM STDIN`` (CSV built
  by pyarrow, geometry as hex EWKB) into a new table, index and analyse it, then drop the old table
  and rename the new one in the same transaction: readers see the old layer or the new one.
* **Reads** filter with ``ST_Intersects`` (which uses the GiST index through ``&&``) and page by
  ``fid``; geometry leaves the database as WKB (``ST_AsBinary``).
* **Tiles** are built in the database: ``ST_AsMVT`` over ``ST_AsMVTGeom`` of the geometry in
  EPSG:3857 against ``ST_TileEnvelope(z, x, y)`` (PostGIS ≥ 3.0).

Requires PostgreSQL with the ``postgis`` extension (Debian: ``postgresql-15-postgis-3``) and the
PyPI packages ``psycopg`` (3) and ``psycopg-pool``. The connection URL is the setting
``GISAPP_DATABASE_URL`` (libpq URI, e.g. ``postgresql://user@/db?host=/run/postgresql``).
"""

from __future__ import annotations

import binascii
import contextlib
import io
import json
import math
import os
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely
from psycopg import sql
from psycopg_pool import ConnectionPool

from gisapp.store.backends.base import BBox

#: MVT extent (tile coordinate units per tile side) and clip buffer (in those units), the PostGIS defaults.
MVT_EXTENT = 4096
MVT_BUFFER = 64
#: PostgreSQL truncates identifiers to 63 bytes; longer layer ids would collide, so they are refused.
MAX_IDENTIFIER_BYTES = 63
_STAGING_PREFIX = "_new_"


def _pg_type(dtype: Any) -> str:
    """The PostgreSQL column type holding a pandas ``dtype`` without loss."""
    kind = getattr(dtype, "kind", "O")
    if kind == "b":
        return "boolean"
    if kind in "iu":
        size = np.dtype(dtype.numpy_dtype if hasattr(dtype, "numpy_dtype") else dtype).itemsize
        if kind == "i":
            return {1: "smallint", 2: "smallint", 4: "integer"}.get(size, "bigint")
        return {1: "smallint", 2: "integer"}.get(size, "bigint" if size == 4 else "numeric")
    if kind == "f":
        size = np.dtype(dtype.numpy_dtype if hasattr(dtype, "numpy_dtype") else dtype).itemsize
        return "real" if size == 4 else "double precision"
    if kind == "M":
        return "timestamptz" if getattr(dtype, "tz", None) is not None else "timestamp"
    return "text"


def tile_bounds(z: int, x: int, y: int, *, buffer: float = 0.0) -> BBox:
    """Extent of XYZ tile ``z/x/y`` (Web Mercator tiling, EPSG:3857) as ``(min_lon, min_lat, max_lon,
    max_lat)`` in EPSG:4326 degrees (spherical Mercator inverse, as every XYZ client computes it),
    widened by ``buffer`` tile widths on each side (clamped to the Mercator world).

    Raises:
        ValueError: when ``z`` is outside 0–30 or ``x``/``y`` outside ``0 … 2**z − 1``.
    """
    if not 0 <= z <= 30 or not (0 <= x < 2**z and 0 <= y < 2**z):
        raise ValueError(f"no tile {z}/{x}/{y}")
    n = 2.0**z

    def lon(col: float) -> float:
        return min(max(col, 0.0), n) / n * 360.0 - 180.0

    def lat(row: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * min(max(row, 0.0), n) / n))))

    return (lon(x - buffer), lat(y + 1 + buffer), lon(x + 1 + buffer), lat(y - buffer))


class PostgisBackend:
    """Large layers in PostgreSQL + PostGIS (see the module docstring for the table layout).

    Implements :class:`gisapp.store.backends.base.FeatureBackend`: geometries in and out in
    EPSG:4326 (lon, lat), bboxes in EPSG:4326 degrees, features ordered by their 1-based ``fid``.
    Connections come from a small pool opened on first use (and reopened in a forked worker);
    the object is safe to share between the threads of one process. Call :meth:`close` when done.

    Args:
        database_url: libpq connection string or URI, e.g.
            ``postgresql://gisapp@/gisapp?host=/run/postgresql``; the database must have (or let
            this user create) the ``postgis`` extension.
        schema: the schema holding the layer tables (created on first write).
        pool_size: most connections held at once.
    """

    name = "postgis"

    def __init__(self, database_url: str, *, schema: str = "gisapp", pool_size: int = 4) -> None:
        self.database_url = database_url
        self.schema = schema
        self.pool_size = pool_size
        self._lock = threading.Lock()
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = None
        self._pool_pid = 0

    # -- connections -----------------------------------------------------------------------------

    def _get_pool(self) -> ConnectionPool[psycopg.Connection[Any]]:
        with self._lock:
            if self._pool is None or self._pool_pid != os.getpid():
                # a pool inherited through fork() holds the parent's sockets: leave them, open our own
                self._pool = ConnectionPool(
                    self.database_url,
                    min_size=1,
                    max_size=self.pool_size,
                    open=True,
                    check=ConnectionPool.check_connection,
                    timeout=10.0,  # s to wait for a connection before PoolTimeout (database down or pool busy)
                    name=f"gisapp-{self.schema}",
                    # JIT compiling costs ~0.3 s on the big-estimate joins here and never pays back
                    kwargs={"options": "-c jit=off"},
                )
                self._pool_pid = os.getpid()
            return self._pool

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        with self._get_pool().connection() as conn:
            yield conn

    def close(self) -> None:
        """Close the connection pool (a later call opens a new one)."""
        with self._lock:
            if self._pool is not None and self._pool_pid == os.getpid():
                self._pool.close()
            self._pool = None

    def __enter__(self) -> PostgisBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- names and metadata ----------------------------------------------------------------------

    def _table(self, name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(name))

    @staticmethod
    def _check_id(layer_id: str) -> str:
        if not layer_id or len(layer_id.encode("utf-8")) > MAX_IDENTIFIER_BYTES or layer_id.startswith(_STAGING_PREFIX):
            raise ValueError(f"layer id {layer_id!r} cannot name a PostGIS table (1–63 bytes, not '_new_…')")
        return layer_id

    def _meta(self, conn: psycopg.Connection[Any], layer_id: str) -> dict[str, Any]:
        if len(layer_id.encode("utf-8")) > MAX_IDENTIFIER_BYTES:
            raise KeyError(layer_id)  # PostgreSQL would truncate it and might name another table
        qualified = sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(layer_id)).as_string(conn)
        row = conn.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", [qualified]).fetchone()
        if row is None or row[0] is None:
            raise KeyError(layer_id)
        meta: dict[str, Any] = json.loads(row[0])
        return meta

    def layers(self) -> list[str]:
        """Layer ids held in the schema, sorted (tables being loaded are not listed)."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind = 'r' AND obj_description(c.oid, 'pg_class') IS NOT NULL",
                [self.schema],
            ).fetchall()
        return sorted(r[0] for r in rows if not r[0].startswith(_STAGING_PREFIX))

    def columns(self, layer_id: str) -> dict[str, str]:
        """Attribute columns and the pandas dtypes :meth:`query` returns them in (``fid`` and the
        geometry excluded): the written dtype, ``str`` for every text column.

        Raises:
            KeyError: the layer is absent.
        """
        with self._connection() as conn:
            written: dict[str, str] = self._meta(conn, layer_id)["columns"]
        return {name: _reported_dtype(dtype) for name, dtype in written.items()}

    def bounds(self, layer_id: str) -> BBox:
        """Extent of the layer in EPSG:4326 degrees, recorded at write time (``(0, 0, 0, 0)`` for a
        layer without geometries, as GDAL records it in a GeoPackage).

        Raises:
            KeyError: the layer is absent.
        """
        with self._connection() as conn:
            b = self._meta(conn, layer_id)["bounds"]
        return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))

    # -- writing ---------------------------------------------------------------------------------

    def _ensure_schema(self, conn: psycopg.Connection[Any]) -> None:
        if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone() is None:
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            except psycopg.Error as exc:
                raise RuntimeError(
                    f"the database has no PostGIS extension and this user cannot create it: {exc}"
                ) from exc
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))

    def write(self, layer_id: str, chunks: Iterable[gpd.GeoDataFrame]) -> int:
        """Replace ``layer_id`` atomically with the concatenation of ``chunks``.

        Every chunk must be in EPSG:4326 and have the attribute columns (names, order, dtypes) of the
        first. Rows get ``fid`` 1, 2, … in order. The new table is loaded with ``COPY``, indexed
        (GiST on ``geom``, primary key on ``fid``) and analysed, then swapped in for the old one in
        the same transaction, so concurrent readers see either the old or the new layer.

        Returns:
            The number of features written.

        Raises:
            ValueError: no chunk at all (an empty chunk gives an empty layer with its schema), a chunk
                not in EPSG:4326 or whose columns differ from the first, attributes named ``fid`` or
                ``geom``, or a layer id that cannot name a table (over 63 bytes). The old layer
                stays as it was.
            RuntimeError: the database lacks PostGIS and the user may not create the extension.
        """
        self._check_id(layer_id)
        staging = f"{_STAGING_PREFIX}{uuid.uuid4().hex[:24]}"
        columns: dict[str, str] | None = None
        count = 0
        bounds = [math.inf, math.inf, -math.inf, -math.inf]
        with self._connection() as conn, conn.transaction():
            self._ensure_schema(conn)
            with contextlib.ExitStack() as stack:  # the COPY ends (or fails, on an error) before the swap
                copy: psycopg.Copy | None = None
                for chunk in chunks:
                    if chunk.crs is None or not chunk.crs.equals("EPSG:4326", ignore_axis_order=True):
                        raise ValueError(f"layer {layer_id}: chunk CRS is {chunk.crs}, expected EPSG:4326")
                    attrs = chunk.drop(columns=chunk.geometry.name)
                    these = {str(c): str(attrs[c].dtype) for c in attrs.columns}
                    if columns is None:
                        reserved = {"fid", "geom"} & set(these)
                        if reserved:
                            raise ValueError(f"layer {layer_id}: attribute names {sorted(reserved)} are reserved")
                        columns = these
                        self._create_table(conn, staging, attrs)
                        cursor = stack.enter_context(conn.cursor())
                        copy = stack.enter_context(
                            cursor.copy(
                                sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
                                    self._table(staging),
                                    sql.SQL(", ").join(sql.Identifier(n) for n in ["fid", *columns, "geom"]),
                                )
                            )
                        )
                    elif these != columns:
                        raise ValueError(f"layer {layer_id}: chunk columns {these} differ from the first {columns}")
                    if len(chunk) == 0:
                        continue
                    assert copy is not None
                    copy.write(_csv_rows(attrs, chunk.geometry.values, first_fid=count + 1))
                    count += len(chunk)
                    b = chunk.geometry.total_bounds
                    if not np.isnan(b).any():
                        bounds = [
                            min(bounds[0], b[0]),
                            min(bounds[1], b[1]),
                            max(bounds[2], b[2]),
                            max(bounds[3], b[3]),
                        ]
            if columns is None:
                raise ValueError(f"layer {layer_id}: no data to write (not even an empty chunk)")
            self._swap_in(conn, layer_id, staging, columns, count, bounds)
        return count

    def _create_table(self, conn: psycopg.Connection[Any], staging: str, attrs: pd.DataFrame) -> None:
        defs: list[sql.Composable] = [sql.SQL("fid bigint NOT NULL")]
        defs += [sql.SQL("{} {}").format(sql.Identifier(str(c)), sql.SQL(_pg_type(attrs[c].dtype))) for c in attrs]
        defs.append(sql.SQL("geom geometry(Geometry, 4326)"))
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(self._table(staging), sql.SQL(", ").join(defs)))

    def _swap_in(
        self,
        conn: psycopg.Connection[Any],
        layer_id: str,
        staging: str,
        columns: dict[str, str],
        count: int,
        bounds: list[float],
    ) -> None:
        table = self._table(staging)
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY (fid)").format(table, sql.Identifier(f"{staging}_pk"))
        )
        conn.execute(
            sql.SQL("CREATE INDEX {} ON {} USING gist (geom)").format(sql.Identifier(f"{staging}_geom"), table)
        )
        conn.execute(sql.SQL("ANALYZE {}").format(table))
        shown = bounds if math.isfinite(bounds[0]) else [0.0] * 4
        meta = {"layer_id": layer_id, "columns": columns, "count": count, "bounds": shown}
        conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(table, sql.Literal(json.dumps(meta))))
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(self._table(layer_id)))
        conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(table, sql.Identifier(layer_id)))

    def drop(self, layer_id: str) -> None:
        """Remove ``layer_id`` (no error when absent)."""
        self._check_id(layer_id)
        with self._connection() as conn:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(self._table(layer_id)))

    # -- reading ---------------------------------------------------------------------------------

    @staticmethod
    def _bbox_filter(bbox: BBox | None) -> sql.Composable:
        if bbox is None:
            return sql.SQL("TRUE")
        x0, y0, x1, y1 = (float(v) for v in bbox)
        # box2d → geometry: a polygon, or a point / line when the bbox has no width or height
        return sql.SQL(
            "ST_Intersects(geom, ST_SetSRID(ST_MakeBox2D(ST_Point({}, {}), ST_Point({}, {}))::geometry, 4326))"
        ).format(sql.Literal(x0), sql.Literal(y0), sql.Literal(x1), sql.Literal(y1))

    def count(self, layer_id: str, bbox: BBox | None = None) -> int:
        """Number of features, or of features whose geometry intersects ``bbox`` (EPSG:4326 degrees).

        Raises:
            KeyError: the layer is absent.
        """
        with self._connection() as conn:
            meta = self._meta(conn, layer_id)
            if bbox is None:
                return int(meta["count"])
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE {}").format(self._table(layer_id), self._bbox_filter(bbox))
            ).fetchone()
        return int(row[0]) if row else 0

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
        """Features intersecting ``bbox`` (all when None), ordered by fid, paged by ``limit``/``offset``.

        Args:
            layer_id: the layer.
            bbox: ``(min_lon, min_lat, max_lon, max_lat)`` in EPSG:4326 degrees, or None for all.
            limit: most features returned (None = no limit).
            offset: features skipped first (after ordering by fid).
            columns: attributes returned (None = all, in the layer's order).
            fids: only these feature ids.

        Returns:
            A GeoDataFrame indexed by ``fid`` (int64), CRS EPSG:4326, attributes in their written dtypes.

        Raises:
            KeyError: the layer is absent.
            ValueError: an unknown column, or a negative ``limit``/``offset``.
        """
        if offset < 0 or (limit is not None and limit < 0):
            raise ValueError("offset and limit must be ≥ 0")
        with self._connection() as conn:
            meta = self._meta(conn, layer_id)
            dtypes: dict[str, str] = meta["columns"]
            wanted = _wanted(layer_id, dtypes, columns)
            where = [self._bbox_filter(bbox)]
            if fids is not None:
                where.append(
                    sql.SQL("fid = ANY({}::bigint[])").format(sql.Literal(np.asarray(fids, dtype=np.int64).tolist()))
                )
            select = sql.SQL(
                "SELECT fid, {cols}encode(ST_AsBinary(geom), 'hex') FROM {t} WHERE {w} ORDER BY fid{lim} OFFSET {off}"
            ).format(
                cols=sql.SQL("").join(sql.SQL("{}, ").format(sql.Identifier(c)) for c in wanted),
                t=self._table(layer_id),
                w=sql.SQL(" AND ").join(where),
                lim=sql.SQL("") if limit is None else sql.SQL(" LIMIT {}").format(sql.Literal(int(limit))),
                off=sql.Literal(int(offset)),
            )
            buf = io.BytesIO()
            with conn.cursor() as cur, cur.copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(select)) as copy:
                for block in copy:
                    buf.write(block)
        return _csv_frame(buf.getvalue(), wanted, {c: dtypes[c] for c in wanted})

    def fids_in_boxes(self, layer_id: str, boxes: Iterable[BBox]) -> np.ndarray:
        """Sorted fids of the features whose envelope meets any of ``boxes`` (EPSG:4326 degrees): a
        superset of those intersecting them (e.g. the targets near 10 000 parcels), found by one
        GiST-indexed join (``&&``) in the database, without sending a geometry. The optional backend
        capability :meth:`gisapp.store.layerstore.LayerStore.query_boxes` uses.

        Raises:
            KeyError: the layer is absent.
        """
        b = np.asarray(list(boxes), dtype=np.float64).reshape(-1, 4)
        with self._connection() as conn:
            self._meta(conn, layer_id)
            if len(b) == 0:
                return np.empty(0, dtype=np.int64)
            stmt = sql.SQL(
                "SELECT DISTINCT t.fid FROM unnest(%s::float8[], %s::float8[], %s::float8[], %s::float8[])"
                " AS b(x0, y0, x1, y1) JOIN {t} AS t ON t.geom && ST_MakeEnvelope(b.x0, b.y0, b.x1, b.y1, 4326)"
                " ORDER BY t.fid"
            ).format(t=self._table(layer_id))
            with conn.cursor(binary=True) as cur:
                rows = cur.execute(stmt, [b[:, k].tolist() for k in range(4)]).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def tile(self, layer_id: str, z: int, x: int, y: int, *, columns: list[str] | None = None) -> bytes:
        """Mapbox Vector Tile (MVT 2.1, extent 4096, layer name = ``layer_id``) of the features
        intersecting XYZ tile ``z/x/y`` (EPSG:3857 tiling) widened by a 64-unit buffer, clipped to
        it (``ST_AsMVTGeom``); feature id = ``fid``; the attributes in ``columns`` (None = all; NULLs
        left out). Features that collapse below one tile unit are left out; empty bytes when none is
        left.

        Raises:
            KeyError: the layer is absent.
            ValueError: an unknown column, or no such tile (``x``/``y`` outside ``0 … 2**z − 1``).
        """
        margin = tile_bounds(z, x, y, buffer=MVT_BUFFER / MVT_EXTENT)
        with self._connection() as conn:
            dtypes: dict[str, str] = self._meta(conn, layer_id)["columns"]
            wanted = _wanted(layer_id, dtypes, columns)
            stmt = sql.SQL(
                "SELECT ST_AsMVT(q, {name}, {extent}, 'geom', 'fid') FROM ("
                " SELECT fid, {cols}ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope({z}, {x}, {y}),"
                " {extent}, {buffer}, true) AS geom"
                " FROM {t} WHERE {w}) AS q WHERE q.geom IS NOT NULL"
            ).format(
                name=sql.Literal(layer_id),
                extent=sql.Literal(MVT_EXTENT),
                buffer=sql.Literal(MVT_BUFFER),
                cols=sql.SQL("").join(sql.SQL("{}, ").format(sql.Identifier(c)) for c in wanted),
                z=sql.Literal(int(z)),
                x=sql.Literal(int(x)),
                y=sql.Literal(int(y)),
                t=self._table(layer_id),
                w=self._bbox_filter(margin),
            )
            row = conn.execute(stmt).fetchone()
        return bytes(row[0]) if row and row[0] is not None else b""


def _wanted(layer_id: str, dtypes: dict[str, str], columns: list[str] | None) -> list[str]:
    """The attribute columns asked for (None = all), checked against the layer's."""
    wanted = list(dtypes) if columns is None else list(columns)
    unknown = [c for c in wanted if c not in dtypes]
    if unknown:
        raise ValueError(f"layer {layer_id} has no column {unknown[0]!r}")
    return wanted


def _reported_dtype(dtype: str) -> str:
    """The dtype :meth:`PostgisBackend.columns` reports for a written dtype (text → ``str``)."""
    return "str" if _pg_type(_as_dtype(dtype)) == "text" else dtype


def _as_dtype(dtype: str) -> Any:
    try:
        return pd.api.types.pandas_dtype(dtype)
    except TypeError:
        return np.dtype("O")


_ARROW_TYPES: dict[str, pa.DataType] = {
    "boolean": pa.bool_(),
    "smallint": pa.int16(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "real": pa.float32(),
    "double precision": pa.float64(),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
}


def _csv_frame(data: bytes, names: list[str], dtypes: dict[str, str]) -> gpd.GeoDataFrame:
    """The frame of a ``COPY (SELECT fid, <names>, hex WKB) TO STDOUT (FORMAT csv)`` output, parsed by
    pyarrow (multi-threaded C++): index ``fid``, the columns in their written dtypes (text as ``str``,
    NULL → missing, a quoted empty field → ``""``), geometry from the hex WKB, CRS EPSG:4326."""
    column_names = ["fid", *(f"c{i}" for i in range(len(names))), "geom"]
    types: dict[str, pa.DataType] = {"fid": pa.int64(), "geom": pa.string()}
    for i, name in enumerate(names):
        pg = _pg_type(_as_dtype(dtypes[name]))
        types[f"c{i}"] = _ARROW_TYPES.get(pg, pa.string())  # text, numeric (uint64) → parsed by pandas below
    if data:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=column_names),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                true_values=["t"],
                false_values=["f"],
            ),
        )
    else:
        table = pa.table({n: pa.array([], type=types[n]) for n in column_names})
    index = pd.Index(table.column("fid").to_numpy(), name="fid", dtype="int64")
    frame = {
        name: pd.Series(table.column(f"c{i}").to_pandas(), dtype=_reported_dtype(dtypes[name])).set_axis(index)
        for i, name in enumerate(names)
    }
    chunks = [_unhex(c) for c in table.column("geom").chunks]
    geometry = shapely.from_wkb(np.concatenate(chunks) if chunks else np.empty(0, dtype=object))
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, index=index, crs="EPSG:4326"), crs="EPSG:4326")


def _unhex(hexes: pa.Array) -> np.ndarray:
    """Hex strings (WKB from the database) as an object array of bytes (None for NULL), decoded in one
    :func:`binascii.unhexlify` over the Arrow value buffer: GEOS's own hex reader is ten times slower."""
    validity, offsets_buf, data = hexes.buffers()
    assert offsets_buf is not None  # a string array always has its offsets
    offsets = np.frombuffer(memoryview(offsets_buf), dtype=np.int32)[hexes.offset : hexes.offset + len(hexes) + 1]
    start, end = int(offsets[0]), int(offsets[-1])
    raw = binascii.unhexlify(memoryview(data)[start:end]) if data is not None and end > start else b""
    binary = pa.Array.from_buffers(
        pa.binary(),
        len(hexes),
        [validity, pa.py_buffer(((offsets - start) // 2).astype(np.int32).tobytes()), pa.py_buffer(raw)],
        null_count=hexes.null_count,
    )
    out: np.ndarray = binary.to_numpy(zero_copy_only=False)
    return out


def _csv_rows(attrs: pd.DataFrame, geometry: Any, *, first_fid: int) -> bytes:
    """One chunk as CSV for ``COPY … (FORMAT csv)``: fid, the attributes, hex EWKB (SRID 4326).

    Strings are quoted (an empty string stays empty), a missing value is an unquoted empty field
    (SQL NULL), booleans ``true``/``false``, floats in their shortest exact form (pyarrow).
    """
    table = pa.Table.from_pandas(attrs.reset_index(drop=True), preserve_index=False)
    fid = pa.array(np.arange(first_fid, first_fid + len(attrs), dtype="int64"))
    geoms = shapely.set_srid(np.asarray(geometry, dtype=object), 4326)
    hexes = pa.array(shapely.to_wkb(geoms, hex=True, include_srid=True), type=pa.string())
    table = table.add_column(0, "fid", fid).append_column("geom", hexes)
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return buf.getvalue()
