"""The layer store: built layers as RFC 7946 GeoJSON files with a JSON metadata sidecar.

A layer ``<id>`` is two files in :func:`gisapp.core.paths.layers_dir`:

* ``<id>.geojson``: a FeatureCollection in WGS 84 lon/lat, written by GDAL's GeoJSON driver
  (through pyogrio) with ``RFC7946=YES`` (right-hand rule, no ``crs`` member) and 7 decimals
  (about 1 cm);
* ``<id>.meta.json``: :class:`LayerMeta` (title, source, licence, datum, geometry basis …).

A *large* layer (``"backend": "gpkg"`` or ``"postgis"`` in its meta.json) has no GeoJSON file: its
features live in a spatially indexed backend (:mod:`gisapp.store.backends`) and are read by bbox, by
page or as vector tiles (:meth:`LayerStore.query`, :meth:`LayerStore.count`, :meth:`LayerStore.tile`,
which work for file layers too), never whole (:meth:`LayerStore.frame` refuses).

Writes are atomic (temporary file + :func:`os.replace`), so a failed build or upload never
leaves a half-written layer behind. A store with a ``.store/manifest.json`` is *versioned*
(:mod:`gisapp.store.storetxn`): :func:`write_layer` into it is a one-layer transaction, commands
that write several layers stage them and switch them in one step, and the readers here hold
the store's shared lock, so they never see a half-switched store.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypedDict, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gisapp.core import paths
from gisapp.core.crs import WGS84, to_wgs84
from gisapp.core.errors import InputError, LayerNotFound
from gisapp.store import storetxn
from gisapp.store.backends import open_backend
from gisapp.store.backends.base import BBox, FeatureBackend
from gisapp.store.backends.mvt import check_tile, encode_tile, min_zoom_for, tile_bbox_4326

COORDINATE_PRECISION = 7
#: A large layer's vector tiles start at the zoom where an average tile holds at most this many features
#: (below it the map shows the layer's extent only; see :meth:`LayerStore.write_large`).
TILE_FEATURES = 600
LAYER_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class Provenance(TypedDict):
    """Where a layer comes from: the provenance fields of :class:`LayerMeta`."""

    source: str
    licence: str
    datum: str
    geometry_basis: str


def supplied_provenance(filename: str) -> Provenance:
    """The provenance fields of :class:`LayerMeta` for an official layer a user supplied as ``filename``
    (read in its declared CRS, stored in EPSG:4326): ``source``, ``licence``, ``datum``, ``geometry_basis``."""
    return Provenance(
        source=f"official layer supplied by the user: {filename}",
        licence="as supplied by the user",
        datum="WGS 84 (EPSG:4326), transformed from the file's declared CRS",
        geometry_basis="official",
    )


@dataclass
class LayerMeta:
    """Metadata of one layer, stored as ``<id>.meta.json``.

    Attributes:
        id: layer id (lower-case letters, digits and ``-``).
        title: Chinese title shown first in the UI.
        title_en: English title.
        kind: ``base`` | ``towns`` | ``structure`` | ``control_line`` | ``upload``.
        geometry_type: ``Polygon``/``MultiPolygon`` mix is reported as ``Polygon``; or ``Point``, ``LineString``.
        source: where the geometry comes from (package and version, or construction).
        licence: licence of the source data.
        datum: CRS of the file and how the source datum was handled.
        geometry_basis: ``official`` | ``schematic`` | ``illustrative`` for the layer as a whole.
        description: how the layer was made, in a sentence or two.
        plan: plan file the layer encodes (for structures), else ``""``.
        structure: the structure's name in the plan's words, else ``""``.
        notes: further caveats (list of sentences).
        extra: any other key/value a builder wants to record (e.g. area scaling; for a large layer
            ``tile_min_zoom`` and ``bounds``).
        feature_count: number of features.
        backend: ``""`` for a GeoJSON file layer; ``gpkg`` | ``postgis`` for a large layer held by
            that backend (:mod:`gisapp.store.backends`).
    """

    id: str
    title: str
    title_en: str
    kind: str
    geometry_type: str
    source: str
    licence: str
    datum: str
    geometry_basis: str
    description: str
    plan: str = ""
    structure: str = ""
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    feature_count: int = 0
    backend: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the metadata as a JSON-serialisable dict (``backend`` only for a large layer, so file
        layers' meta.json stay as they were)."""
        d = asdict(self)
        if not d["backend"]:
            del d["backend"]
        return d


def check_layer_id(layer_id: str) -> str:
    """Validate a layer id; return it unchanged.

    Raises:
        InputError: code ``invalid_layer_id`` when it is not ``[a-z0-9][a-z0-9-]{0,63}``.
    """
    if not LAYER_ID_RE.match(layer_id):
        raise InputError(
            f"invalid layer id {layer_id!r}: use lower-case letters, digits and '-'",
            code="invalid_layer_id",
        )
    return layer_id


def geojson_path(layer_id: str, directory: Path | None = None) -> Path:
    """Return the path of ``<id>.geojson`` in ``directory`` (default: the layer store)."""
    return (directory or paths.layers_dir()) / f"{check_layer_id(layer_id)}.geojson"


def meta_path(layer_id: str, directory: Path | None = None) -> Path:
    """Return the path of ``<id>.meta.json`` in ``directory`` (default: the layer store)."""
    return (directory or paths.layers_dir()) / f"{check_layer_id(layer_id)}.meta.json"


def _atomic_target(path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # GDAL refuses to overwrite an existing GeoJSON file
    return Path(tmp)


def write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Write ``gdf`` as RFC 7946 GeoJSON to ``path`` atomically.

    Args:
        gdf: features in any CRS; transformed to WGS 84 lon/lat.
        path: destination ``.geojson`` file; replaced only once the new file is complete.

    Raises:
        InputError: code ``missing_crs`` when ``gdf`` has no CRS.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _atomic_target(path)
    try:
        pyogrio.write_dataframe(
            to_wgs84(gdf),
            tmp,
            driver="GeoJSON",
            layer_options={
                "RFC7946": "YES",
                "COORDINATE_PRECISION": str(COORDINATE_PRECISION),
                "WRITE_NAME": "NO",
            },
        )
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json(data: Any, path: Path) -> None:
    """Write ``data`` as pretty UTF-8 JSON (sorted keys, Chinese kept) to ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _atomic_target(path)
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", "utf-8")
        tmp.chmod(0o644)  # readable by a server running as another user, like the .geojson
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_layer(gdf: gpd.GeoDataFrame, meta: LayerMeta, directory: Path | None = None) -> Path:
    """Store a layer: ``<id>.geojson`` (RFC 7946, WGS 84) and ``<id>.meta.json``.

    Args:
        gdf: the features; any CRS (transformed to EPSG:4326).
        meta: the layer's metadata; ``feature_count`` is filled in here.
        directory: target directory (default: the layer store). In a versioned store the
            layer is written as a one-layer transaction (a new version; see :mod:`gisapp.store.storetxn`).

    Returns:
        the path of the GeoJSON file.
    """
    directory = directory or paths.layers_dir()
    meta.feature_count = len(gdf)
    if (directory / storetxn.STORE_DIR / storetxn.MANIFEST).exists():
        store = storetxn.VersionedStore(directory)
        with store.transaction(f"write_layer {meta.id}") as txn:
            write_layer(gdf, meta, txn.stage_dir)
            txn.commit()
        return geojson_path(meta.id, directory)
    out = geojson_path(meta.id, directory)
    write_geojson(gdf, out)
    write_json(meta.to_dict(), meta_path(meta.id, directory))
    return out


def read_layer(layer_id: str, directory: Path | None = None) -> gpd.GeoDataFrame:
    """Read a stored layer as a GeoDataFrame in EPSG:4326.

    Raises:
        LayerNotFound: when ``<id>.geojson`` is not in the store (HTTP 404).
    """
    path = geojson_path(layer_id, directory)
    with storetxn.read_lock(path.parent):
        if not path.exists():
            raise LayerNotFound(layer_id)
        gdf = pyogrio.read_dataframe(path)
    return gdf.set_crs(WGS84, allow_override=True)


def read_meta(layer_id: str, directory: Path | None = None) -> LayerMeta:
    """Read a layer's metadata.

    Raises:
        LayerNotFound: when ``<id>.meta.json`` is not in the store (HTTP 404).
    """
    path = meta_path(layer_id, directory)
    with storetxn.read_lock(path.parent):
        if not path.exists():
            raise LayerNotFound(layer_id)
        text = path.read_text("utf-8")
    return LayerMeta(**json.loads(text))


def list_layers(directory: Path | None = None) -> list[LayerMeta]:
    """Return the metadata of every layer in the store, sorted by id."""
    directory = directory or paths.layers_dir()
    with storetxn.read_lock(directory):
        names = sorted(p.name for p in directory.glob("*.meta.json") if not p.name.startswith("."))
        return [read_meta(n.removesuffix(".meta.json"), directory) for n in names]


T = TypeVar("T")


def _rfc7946_rings(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` stored as a file layer would be: coordinates rounded to :data:`COORDINATE_PRECISION`
    decimals (about 1 cm), polygon exteriors counter-clockwise and holes clockwise (RFC 7946 §3.1.6)."""
    geoms = shapely.transform(gdf.geometry.to_numpy(), lambda xy: np.round(xy, COORDINATE_PRECISION))
    return gdf.set_geometry(shapely.orient_polygons(geoms, exterior_cw=False), crs=gdf.crs)


def _stat_key(path: Path) -> tuple[int, int, int]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return (-1, -1, -1)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class LayerStore:
    """One layer store (a directory of ``<id>.geojson`` + ``<id>.meta.json``) and its cache.

    The web app owns one (``app.extensions["gisapp.store"]``), each CLI invocation another; every
    route, the OGC provider, the overlap targets and the CLI read layers through it, so an app made
    with ``create_app({"GISAPP_LAYERS_DIR": X})`` sees store X everywhere.

    The cache holds derived objects (parsed frames, STRtree-backed control layers, map display data)
    keyed by what they were made from: a layer's files (inode, mtime, size) or, for the listing,
    the directory and its version manifest. A write through any process invalidates them because
    every write replaces files (:func:`os.replace`), which changes inode and mtime. Values handed
    out from the cache are shared: callers must not modify them (copy first).

    Large layers (``meta.backend`` set) live in :attr:`backend`; :meth:`count`, :meth:`query`,
    :meth:`tile` and :meth:`bounds` answer for both kinds, :meth:`frame`/:meth:`read` only for files.

    Args:
        directory: the store's folder (need not exist yet; a missing store lists no layers).
        backend: the large-layer backend (see :func:`gisapp.store.backends.open_backend`); default:
            GeoPackage files in ``<directory>/large``.
    """

    def __init__(self, directory: Path, backend: FeatureBackend | None = None) -> None:
        """Args: directory: the store's folder. backend: the large-layer backend (default GeoPackage)."""
        self.directory = Path(directory).resolve()
        self.backend: FeatureBackend = backend or open_backend(self.directory, None)
        self._lock = threading.Lock()
        self._cache: dict[tuple[Any, ...], tuple[Any, Any]] = {}

    def __repr__(self) -> str:
        """``LayerStore('/path')``."""
        return f"LayerStore({str(self.directory)!r})"

    # -- paths and plain reads -------------------------------------------------------------
    def path(self, layer_id: str) -> Path:
        """The ``<id>.geojson`` file of a layer (it may not exist). Raises InputError for a bad id."""
        return geojson_path(layer_id, self.directory)

    def meta_path(self, layer_id: str) -> Path:
        """The ``<id>.meta.json`` file of a layer (it may not exist). Raises InputError for a bad id."""
        return meta_path(layer_id, self.directory)

    def exists(self, layer_id: str) -> bool:
        """Whether the store holds layer ``layer_id``, file or large (False for an invalid id)."""
        if not LAYER_ID_RE.match(layer_id):
            return False
        return self.path(layer_id).exists() or self.is_large(layer_id)

    def is_large(self, layer_id: str) -> bool:
        """Whether ``layer_id`` is a large layer (features in :attr:`backend`, no GeoJSON file).

        Raises:
            InputError: invalid id.
        """
        mp = self.meta_path(layer_id)
        if not mp.exists():
            return False
        try:
            return bool(self.derived("meta", layer_id, lambda: read_meta(layer_id, self.directory)).backend)
        except LayerNotFound:  # removed while we looked
            return False

    def _large_meta(self, layer_id: str) -> LayerMeta | None:
        """The metadata of a large layer, None for a file layer (cached). Raises LayerNotFound, InputError."""
        if self.path(layer_id).exists():
            return None
        meta = self.derived("meta", layer_id, lambda: read_meta(layer_id, self.directory))
        if not meta.backend:
            raise LayerNotFound(layer_id)
        if meta.backend != self.backend.name:
            raise InputError(
                f"layer '{layer_id}' is held by the {meta.backend} backend, this store uses {self.backend.name}",
                code="backend_unavailable",
                status=503,
            )
        return meta

    def read(self, layer_id: str) -> gpd.GeoDataFrame:
        """A fresh copy of a layer (EPSG:4326) that the caller may modify.

        Raises:
            LayerNotFound: unknown layer (HTTP 404). InputError: invalid id.
        """
        return self.frame(layer_id).copy()

    def frame(self, layer_id: str) -> gpd.GeoDataFrame:
        """A file layer (EPSG:4326) from the cache: shared, do not modify it.

        Raises:
            LayerNotFound: unknown layer (HTTP 404). InputError: invalid id; ``large_layer`` (422) for a
                large layer, which is read by bbox or page (:meth:`query`), never whole.
        """
        self._refuse_whole(layer_id)
        return self.derived("frame", layer_id, lambda: read_layer(layer_id, self.directory))

    def _refuse_whole(self, layer_id: str) -> None:
        """Raise ``large_layer`` (422) when ``layer_id`` is large: a million features are not read whole."""
        if self.is_large(layer_id):
            meta = self.meta(layer_id)
            raise InputError(
                f"layer '{layer_id}' is a large layer ({meta.feature_count} features in {meta.backend}): "
                "read it by bbox or by page (vector tiles, OGC API items), not whole",
                code="large_layer",
                status=422,
            )

    def meta(self, layer_id: str) -> LayerMeta:
        """A layer's metadata (a fresh object).

        Raises:
            LayerNotFound: unknown layer (HTTP 404). InputError: invalid id.
        """
        return read_meta(layer_id, self.directory)

    def geojson_text(self, layer_id: str) -> str:
        """A layer's stored GeoJSON text (RFC 7946, WGS 84), as written.

        Raises:
            LayerNotFound: unknown layer (HTTP 404). InputError: invalid id; ``large_layer`` (422).
        """
        self._refuse_whole(layer_id)
        path = self.path(layer_id)
        with storetxn.read_lock(self.directory):
            if not path.exists():
                raise LayerNotFound(layer_id)
            return path.read_text("utf-8")

    def list(self) -> list[LayerMeta]:
        """The metadata of every layer, sorted by id (cached until the store changes)."""
        if not self.directory.exists():
            return []
        return list(self.derived_store("list", lambda: list_layers(self.directory)))

    def write(self, gdf: gpd.GeoDataFrame, meta: LayerMeta) -> Path:
        """Store a layer (see :func:`write_layer`); returns the GeoJSON path."""
        return write_layer(gdf, meta, self.directory)

    # -- large layers and queries on any layer -----------------------------------------------
    def write_large(self, chunks: Iterable[gpd.GeoDataFrame], meta: LayerMeta) -> LayerMeta:
        """Store a large layer: its features in :attr:`backend`, then its ``<id>.meta.json``.

        The backend replaces the features atomically; the metadata is written after, so a failed
        import leaves the old layer (features and metadata) as it was. A GeoJSON file of the same id
        is removed (the layer becomes large).

        Args:
            chunks: EPSG:4326 frames of one schema (see :meth:`FeatureBackend.write`); polygon rings are
                stored as a file layer's are (7 decimals; RFC 7946: exteriors counter-clockwise, holes clockwise).
            meta: the layer's metadata; ``backend``, ``feature_count`` and ``extra["bounds"]``,
                ``extra["tile_min_zoom"]`` (zoom where an average tile holds ≤ :data:`TILE_FEATURES`)
                are filled in here.

        Returns:
            the metadata as written.

        Raises:
            ValueError: chunks not in EPSG:4326 or of different schemas (nothing changed).
        """
        check_layer_id(meta.id)
        count = self.backend.write(meta.id, (_rfc7946_rings(c) for c in chunks))
        bounds = self.backend.bounds(meta.id)
        meta.backend = self.backend.name
        meta.feature_count = count
        meta.extra = {
            **meta.extra,
            "bounds": [round(float(v), 7) for v in bounds],
            "tile_min_zoom": min_zoom_for(count, bounds, TILE_FEATURES),
        }
        write_json(meta.to_dict(), self.meta_path(meta.id))
        self.path(meta.id).unlink(missing_ok=True)
        return meta

    def indexed(self, layer_id: str) -> gpd.GeoDataFrame:
        """A file layer with its fid (1-based row number) as index: cached and shared, do not modify it.

        Raises:
            LayerNotFound: unknown layer (404). InputError: invalid id; ``large_layer`` (422) for a large one.
        """

        def make() -> gpd.GeoDataFrame:
            gdf = self.frame(layer_id).copy()
            gdf.index = pd.RangeIndex(1, len(gdf) + 1, name="fid")
            return gdf

        return self.derived("indexed", layer_id, make)

    def _positions(self, gdf: gpd.GeoDataFrame, bbox: BBox | None) -> np.ndarray:
        if bbox is None:
            return np.arange(len(gdf))
        hits = gdf.sindex.query(shapely.box(*bbox), predicate="intersects")
        return np.sort(np.asarray(hits, dtype=np.int64))

    def count(self, layer_id: str, bbox: BBox | None = None) -> int:
        """Number of features of a layer (file or large), or of those intersecting ``bbox`` (EPSG:4326).

        Raises:
            LayerNotFound: unknown layer (404). InputError: invalid id.
        """
        if self._large_meta(layer_id) is not None:
            return self.backend.count(layer_id, bbox)
        return len(self._positions(self.indexed(layer_id), bbox))

    def query(
        self,
        layer_id: str,
        bbox: BBox | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
        columns: Sequence[str] | None = None,
    ) -> gpd.GeoDataFrame:
        """Features of a layer (file or large) intersecting ``bbox`` (all when None), ordered by fid (the
        1-based feature number), ``limit`` from ``offset``; ``columns`` limits the attributes.

        Returns:
            a new frame (EPSG:4326, index ``fid``) the caller may modify.

        Raises:
            LayerNotFound: unknown layer (404). InputError: invalid id; ``missing_field`` for an unknown
                column; ``invalid_page`` for a negative limit or offset.
        """
        if offset < 0 or (limit is not None and limit < 0):
            raise InputError("limit and offset must be ≥ 0", code="invalid_page")
        if columns is not None:
            unknown = [c for c in columns if c not in self.columns(layer_id)]
            if unknown:
                raise InputError(f"layer '{layer_id}' has no field '{unknown[0]}'", code="missing_field")
        if self._large_meta(layer_id) is not None:
            cols = None if columns is None else [str(c) for c in columns]
            return self.backend.query(layer_id, bbox, limit=limit, offset=offset, columns=cols)
        gdf = self.indexed(layer_id)
        pos = self._positions(gdf, bbox)
        pos = pos[offset : None if limit is None else offset + limit]
        page = gdf.iloc[pos]
        if columns is not None:
            page = page[[*columns, gdf.geometry.name]]
        return page.copy()

    def query_boxes(
        self, layer_id: str, boxes: Sequence[BBox], columns: Sequence[str] | None = None
    ) -> gpd.GeoDataFrame:
        """Features near any of ``boxes`` (EPSG:4326), each once, ordered by fid: at least every feature
        intersecting a box, and for a large layer possibly some whose envelope only meets one (e.g. the
        targets near a set of parcels, one box per parcel; the overlap tests intersection exactly).

        A large layer's backend answers with its spatial index (``fids_in_boxes``) and one read.

        Raises:
            as :meth:`query`.
        """
        cols = None if columns is None else [str(c) for c in columns]
        if not boxes:
            return self.query(layer_id, (0.0, 0.0, 0.0, 0.0), limit=0, columns=cols)
        if self._large_meta(layer_id) is not None:
            fids = self.backend.fids_in_boxes(layer_id, boxes)
            return self.backend.query(layer_id, fids=[int(f) for f in fids], columns=cols)
        gdf = self.indexed(layer_id)
        hits = gdf.sindex.query(shapely.box(*np.asarray(boxes, dtype=float).T), predicate="intersects")[1]
        page = gdf.iloc[np.unique(hits)]
        return (page if cols is None else page[[*cols, gdf.geometry.name]]).copy()

    def columns(self, layer_id: str) -> dict[str, str]:
        """Attribute columns of a layer (file or large) and their pandas dtypes, geometry excluded.

        Raises:
            LayerNotFound: unknown layer (404). InputError: invalid id.
        """
        if self._large_meta(layer_id) is not None:
            return self.derived("columns", layer_id, lambda: self.backend.columns(layer_id))
        gdf = self.frame(layer_id)
        return {str(c): str(gdf[c].dtype) for c in gdf.columns if c != gdf.geometry.name}

    def bounds(self, layer_id: str) -> BBox:
        """Extent of a layer (file or large), EPSG:4326 degrees; ``(0, 0, 0, 0)`` when empty.

        Raises:
            LayerNotFound: unknown layer (404). InputError: invalid id.
        """
        if self._large_meta(layer_id) is not None:
            return self.derived("bounds", layer_id, lambda: self.backend.bounds(layer_id))
        gdf = self.frame(layer_id)
        if gdf.empty:
            return (0.0, 0.0, 0.0, 0.0)
        b = gdf.total_bounds
        return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))

    def tile_min_zoom(self, layer_id: str) -> int:
        """The lowest zoom level at which :meth:`tile` draws the layer's features (0 for file layers;
        for a large layer the level where an average tile holds ≤ :data:`TILE_FEATURES` features).

        Raises:
            LayerNotFound: unknown layer (404). InputError: invalid id.
        """
        meta = self._large_meta(layer_id)
        return int(meta.extra.get("tile_min_zoom", 0)) if meta is not None else 0

    def tile(self, layer_id: str, z: int, x: int, y: int) -> bytes:
        """Mapbox Vector Tile (MVT 2.1, extent 4096, layer name = ``layer_id``, feature id = fid) of XYZ
        tile ``z/x/y`` (Web Mercator tiling) of a layer, file or large; ``b""`` when no feature falls in
        it or, for a large layer, when ``z`` is below :meth:`tile_min_zoom` (too many features to draw).

        Raises:
            LayerNotFound: unknown layer (404). InputError: invalid id; ``invalid_tile`` for a tile
                address outside the grid.
        """
        try:
            check_tile(z, x, y)
        except ValueError as exc:
            raise InputError(str(exc), code="invalid_tile") from exc
        meta = self._large_meta(layer_id)
        if meta is not None:
            return b"" if z < int(meta.extra.get("tile_min_zoom", 0)) else self.backend.tile(layer_id, z, x, y)
        gdf = self.indexed(layer_id)
        return encode_tile(gdf.iloc[self._positions(gdf, tile_bbox_4326(z, x, y))], layer_id, z, x, y)

    # -- cache -------------------------------------------------------------------------
    def layer_state(self, layer_id: str) -> tuple[Any, ...]:
        """What a layer's derived objects depend on: (inode, mtime_ns, size) of both of its files (a large
        layer's meta.json is rewritten after each import, so it stands for the backend's data too)."""
        return (_stat_key(self.path(layer_id)), _stat_key(self.meta_path(layer_id)))

    def store_state(self) -> tuple[Any, ...]:
        """What store-wide derived objects depend on: the largest ``st_mtime_ns`` of the folder, its
        ``*.geojson``/``*.meta.json`` files and its version manifest, and how many there are (so a
        deletion counts too); ``(0, 0)`` when the store does not exist."""
        if not self.directory.is_dir():
            return (0, 0)
        manifest = self.directory / storetxn.STORE_DIR / storetxn.MANIFEST
        stamps = []
        for f in [self.directory, manifest, *self.directory.glob("*.geojson"), *self.directory.glob("*.meta.json")]:
            try:
                stamps.append(f.stat().st_mtime_ns)
            except FileNotFoundError:  # removed while we looked, or an unversioned store
                continue
        return (max(stamps, default=0), len(stamps))

    def derived(self, kind: str, layer_id: str, make: Callable[[], T], *key: Any) -> T:
        """A value made from one layer by ``make()``, cached until the layer's files change.

        Args:
            kind: what the value is (``"frame"``, ``"control"``, ``"display"``, …).
            layer_id: the layer it is made from.
            make: builds the value; its exceptions propagate and nothing is cached.
            key: further parts of the key (e.g. a zoom level).
        """
        return self._cached((kind, layer_id, *key), self.layer_state(layer_id), make)

    def derived_store(self, kind: str, make: Callable[[], T], *key: Any, bound: int = 0) -> T:
        """A value made from the whole store (listing, map page, OGC API), cached until it changes.

        Args:
            kind, make, key: as for :meth:`derived`.
            bound: keep at most this many values of ``kind`` (oldest dropped first; 0: no bound), for
                keys that come from requests (e.g. one OGC API per base URL).
        """
        return self._cached((kind, "*", *key), self.store_state(), make, bound)

    def _cached(self, key: tuple[Any, ...], state: tuple[Any, ...], make: Callable[[], T], bound: int = 0) -> T:
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] == state:
            return hit[1]
        value = make()
        with self._lock:
            self._cache.pop(key, None)
            self._cache[key] = (state, value)
            if bound:
                same = [k for k in self._cache if k[0] == key[0]]
                for old in same[: max(0, len(same) - bound)]:
                    del self._cache[old]
        return value

    def __deepcopy__(self, memo: dict[int, Any]) -> LayerStore:
        """The store itself: it is shared state, not a value (pygeoapi deep-copies its configuration)."""
        return self

    def clear_cache(self) -> None:
        """Forget every derived value (tests, or after changing files behind the store's back)."""
        with self._lock:
            self._cache.clear()
