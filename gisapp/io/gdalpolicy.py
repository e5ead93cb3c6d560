"""Process-wide GDAL policy: only the drivers the app needs, and no network access (issue 11 §1).

Two copies of GDAL live in this process: pyogrio's (vectors) and rasterio's (rasters). Both
have a driver for every format GDAL knows, including the VRT drivers, whose XML makes GDAL
open *any* path (``/etc/passwd``) or URL (``/vsicurl/http://…``) named inside an upload.
pyogrio has no "allowed drivers" argument, so :func:`apply` removes every other driver from
both libraries (``GDALDeregisterDriver`` through :mod:`ctypes` on the already loaded library)
and sets ``GDAL_SKIP`` to the same list, so that a later ``GDALAllRegister`` (rasterio calls it
lazily, when its first ``Env`` starts) leaves them out again. It also sets configuration options
that stop GDAL from using the network (``/vsicurl/`` and its relatives accept no file name,
HTTP time-outs of 1 s, no retries) and from listing the upload's directory.

Kept drivers (:data:`VECTOR_DRIVERS`, :data:`RASTER_DRIVERS`): what the readers of
:mod:`gisapp.io.readers` open and what :mod:`gisapp.io.formats` / the layer store write. Every reader
still checks, after opening, that GDAL used the driver expected for the format
(:func:`gisapp.io.readers.safety.check_driver`).

:func:`apply` is idempotent and cheap after the first call; :mod:`gisapp.io.readers`,
:mod:`gisapp.analysis.zonalstats` and :mod:`gisapp.analysis.accounting.service` call it at import.
"""

from __future__ import annotations

import ctypes
import glob
import threading
from pathlib import Path

#: Vector drivers kept in pyogrio's GDAL (reading uploads, writing exports and the layer store).
VECTOR_DRIVERS = frozenset(
    {
        "GeoJSON",
        "ESRI Shapefile",
        "GPKG",
        "KML",
        "LIBKML",
        "FlatGeobuf",
        "CSV",
        "Parquet",
        "OpenFileGDB",
        "MEM",
        "Memory",
    }
)
#: Raster drivers kept in rasterio's GDAL (zonal statistics read GeoTIFF; MEM for in-memory work).
RASTER_DRIVERS = frozenset({"GTiff", "MEM"})

#: Configuration options set in both libraries: no network, no directory listing, no remote styles.
CONFIG = {
    # /vsicurl/, /vsicurl_streaming/, /vsis3/ … accept only this (non-existent) file name
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/vsicurl/gisapp-network-access-disabled",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".gisapp-network-access-disabled",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_ALLOW_REMOTE_RESOURCE_TO_ACCESS_LOCAL_FILE": "NO",
    "GDAL_VRT_ENABLE_PYTHON": "NO",
    "LIBKML_RESOLVE_STYLE": "NO",
    "GDAL_DRIVER_PATH": "disabled",
}

_LOCK = threading.Lock()
_APPLIED: dict[str, bool] = {}


def _library(package: str) -> ctypes.CDLL | None:
    """The GDAL shared library bundled with ``package`` (``pyogrio`` or ``rasterio``), or None."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    libs = Path(spec.origin).parent.parent / f"{package}.libs"
    found = sorted(glob.glob(str(libs / "libgdal*.so*")))
    if not found:
        return None
    lib = ctypes.CDLL(found[0])
    lib.GDALGetDriverCount.restype = ctypes.c_int
    lib.GDALGetDriver.restype = ctypes.c_void_p
    lib.GDALGetDriver.argtypes = [ctypes.c_int]
    lib.GDALGetDescription.restype = ctypes.c_char_p
    lib.GDALGetDescription.argtypes = [ctypes.c_void_p]
    lib.GDALDeregisterDriver.argtypes = [ctypes.c_void_p]
    lib.GDALDeregisterDriver.restype = None
    lib.GDALDestroyDriver.argtypes = [ctypes.c_void_p]
    lib.GDALDestroyDriver.restype = None
    lib.CPLSetConfigOption.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.CPLSetConfigOption.restype = None
    lib.GDALAllRegister.restype = None
    return lib


def _names(lib: ctypes.CDLL) -> list[str]:
    return [lib.GDALGetDescription(lib.GDALGetDriver(i)).decode() for i in range(lib.GDALGetDriverCount())]


def _restrict(lib: ctypes.CDLL, allowed: frozenset[str]) -> None:
    for key, value in CONFIG.items():
        lib.CPLSetConfigOption(key.encode(), value.encode())
    lib.GDALAllRegister()  # register everything now, so that the skip list is complete
    skipped = [n for n in _names(lib) if n not in allowed]
    # GDAL_SKIP (comma-separated) is applied at the end of every later GDALAllRegister call too
    lib.CPLSetConfigOption(b"GDAL_SKIP", ",".join(skipped).encode())
    lib.CPLSetConfigOption(b"OGR_SKIP", ",".join(skipped).encode())
    i = 0
    while i < lib.GDALGetDriverCount():
        drv = lib.GDALGetDriver(i)
        if lib.GDALGetDescription(drv).decode() in allowed:
            i += 1
            continue
        lib.GDALDeregisterDriver(drv)
        lib.GDALDestroyDriver(drv)


def apply() -> dict[str, list[str]]:
    """Apply the policy to pyogrio's and rasterio's GDAL (idempotent, thread-safe).

    Returns:
        ``{"pyogrio": [drivers left], "rasterio": [drivers left]}`` (a library not installed is
        left out).
    """
    with _LOCK:
        for package, allowed in (("pyogrio", VECTOR_DRIVERS), ("rasterio", RASTER_DRIVERS)):
            if _APPLIED.get(package):
                continue
            if package == "pyogrio":
                import pyogrio  # noqa: F401  (loads and registers its GDAL)
            else:
                import rasterio

                with rasterio.Env():  # rasterio registers its drivers when its first Env starts
                    pass
            lib = _library(package)
            if lib is not None:
                _restrict(lib, allowed)
            _APPLIED[package] = True
    return drivers()


def drivers() -> dict[str, list[str]]:
    """The drivers registered now in each bundled GDAL: ``{"pyogrio": […], "rasterio": […]}``."""
    out = {}
    for package in ("pyogrio", "rasterio"):
        lib = _library(package)
        if lib is not None:
            out[package] = _names(lib)
    return out
