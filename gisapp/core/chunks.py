"""Vectorised shapely/pyproj calls cut into chunks and run on a thread pool.

shapely 2 and pyproj release the GIL inside their vectorised calls, so chunks of one array run
on all cores. Used by the parcel QA (:mod:`gisapp.analysis.parcels`) and the overlap engine
(:mod:`gisapp.analysis.overlap.engine`); imports nothing of the analysis.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from gisapp.core.crsinfer import PROJECTED_CRS, transform_geoms

#: Items per chunk of the thread pool; below ``2 * CHUNK`` items everything runs inline.
CHUNK = 50_000


def chunked(fn: Callable[[np.ndarray], np.ndarray], values: np.ndarray, workers: int | None = None) -> np.ndarray:
    """Apply a vectorised shapely/pyproj function to ``values`` in chunks on a thread pool.

    Inputs under ``2 * CHUNK`` (or ``workers == 1``) run inline in the calling thread.

    Args:
        fn: array → array of the same length (e.g. :func:`shapely.is_valid`).
        values: the input array.
        workers: threads (default: CPU count).

    Returns:
        the concatenated results, in the order of ``values``.
    """
    n = len(values)
    if n < 2 * CHUNK or workers == 1:
        return fn(values)
    workers = workers or os.cpu_count() or 1
    size = -(-n // (workers * 4))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(lambda s: fn(values[s : s + size]), range(0, n, size)))
    return np.concatenate(parts)


def to_crs_array(geoms: np.ndarray, crs: str, workers: int | None = None) -> np.ndarray:
    """Geometries transformed from EPSG:4547 to ``crs`` with pyproj (chunked on threads).

    Args:
        geoms: shapely geometries in EPSG:4547 (metres).
        crs: the target CRS (e.g. ``"EPSG:4326"``).
        workers: threads (default: CPU count).

    Returns:
        the transformed geometries (object array, same order).
    """
    return chunked(lambda g: transform_geoms(g, PROJECTED_CRS, crs), geoms, workers)


def trim_heap() -> None:
    """Give the C heap's free pages back to the system (glibc ``malloc_trim``; nothing elsewhere).

    GEOS allocates every geometry on the C heap; after a million parcels are freed, the pages stay
    mapped (counted in RSS) until trimmed, and Arrow's own allocator cannot reuse them. Called where
    a large array of geometries has just been released.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return
    trim(0)
