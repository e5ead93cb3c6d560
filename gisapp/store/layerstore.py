"""The layer store: built layers as RFC 7946 GeoJSON files with a JSON metadata sidecar.

A layer ``<id>`` is two files in :func:`gisapp.core.paths.layers_dir`:

* ``<id>.geojson``: a FeatureCollection in WGS 84 lon/lat, written by GDAL's GeoJSON driver
  (through pyogrio) with ``RFC7946=YES`` (right-hand rule, no ``crs`` member) and 7 decimals
  (about 1 cm);
* ``<id>.meta.json``: :class:`LayerMeta` (title, source, licence, datum, geometry basis …).

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
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import pyogrio

from gisapp.core import paths
from gisapp.core.crs import WGS84, to_wgs84
from gisapp.core.errors import InputError, LayerNotFound
from gisapp.store import storetxn

COORDINATE_PRECISION = 7
LAYER_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


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
        extra: any other key/value a builder wants to record (e.g. area scaling).
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

    def to_dict(self) -> dict[str, Any]:
        """Return the metadata as a JSON-serialisable dict."""
        return asdict(self)


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

    Args:
        directory: the store's folder (need not exist yet; a missing store lists no layers).
    """

    def __init__(self, directory: Path) -> None:
        """Args: directory: the store's folder."""
        self.directory = Path(directory).resolve()
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
        """Whether the store holds layer ``layer_id`` (False for an invalid id)."""
        return bool(LAYER_ID_RE.match(layer_id)) and self.path(layer_id).exists()

    def read(self, layer_id: str) -> gpd.GeoDataFrame:
        """A fresh copy of a layer (EPSG:4326) that the caller may modify.

        Raises:
            LayerNotFound: unknown layer (HTTP 404). InputError: invalid id.
        """
        return self.frame(layer_id).copy()

    def frame(self, layer_id: str) -> gpd.GeoDataFrame:
        """A layer (EPSG:4326) from the cache: shared, do not modify it.

        Raises:
            LayerNotFound: unknown layer (HTTP 404). InputError: invalid id.
        """
        return self.derived("frame", layer_id, lambda: read_layer(layer_id, self.directory))

    def meta(self, layer_id: str) -> LayerMeta:
        """A layer's metadata (a fresh object).

        Raises:
            LayerNotFound: unknown layer (HTTP 404). InputError: invalid id.
        """
        return read_meta(layer_id, self.directory)

    def geojson_text(self, layer_id: str) -> str:
        """A layer's stored GeoJSON text (RFC 7946, WGS 84), as written.

        Raises:
            LayerNotFound: unknown layer (HTTP 404). InputError: invalid id.
        """
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

    # -- cache -------------------------------------------------------------------------
    def layer_state(self, layer_id: str) -> tuple[Any, ...]:
        """What a layer's derived objects depend on: (inode, mtime_ns, size) of both of its files."""
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
