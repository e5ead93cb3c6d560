"""Per-request bounds on what reading one upload may cost (issue 11 §2).

A :class:`Limits` travels with a request from the web layer or the CLI down to
:func:`gisapp.io.readers.read_input`, :func:`gisapp.analysis.parcels.load_parcels` and
:func:`gisapp.analysis.zonalstats.zonal_stats`. The defaults (:data:`DEFAULT_LIMITS`) suit a web server
on an office network; the CLI lifts the feature and vertex bounds (:data:`CLI_LIMITS`), since
it reads a user's own million-parcel files.

Errors: a bound on size answers HTTP 413 (``too_large``, ``zip_too_large``,
``too_many_features``, ``too_many_vertices``); a bound on complexity or time 422
(``too_complex``, ``too_slow``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds applied while one submission is read.

    Attributes:
        max_unzipped_bytes: total bytes a zip (or KMZ) may expand to, counted while extracting
            (default 512 MiB).
        max_zip_ratio: largest ratio of expanded bytes to the zip's own size (default 100), checked
            while extracting once more than ``zip_ratio_floor`` bytes have come out.
        zip_ratio_floor: expanded bytes below which the ratio is not checked (default 8 MiB):
            small, very compressible files (blank .dbf fields) are fine.
        max_zip_members: most entries a zip may list (default 1000).
        max_features: most features (parcels) one submission may hold; None = no bound
            (default 100 000).
        max_vertices: most coordinates one submission may hold; None = no bound (default 5 000 000).
        max_text_lines: most lines a pasted/point text may have (default 2 000 000).
        max_json_depth: deepest nesting of a GeoJSON property value (default 32).
        snippet_chars: longest piece of the input quoted back in an error message (default 80).
        isolate: read GDAL-backed formats (GeoPackage, KML, Shapefile) and rasters in a forked child
            process with the resource limits below (default False; the web layer may switch it on).
        timeout_s: wall-clock seconds an isolated read may take (default 60; 422 ``too_slow``).
        cpu_s: CPU seconds of an isolated read (RLIMIT_CPU, default 60).
        memory_bytes: address space of an isolated read (RLIMIT_AS, default 3 GiB).
        file_bytes: largest file an isolated read may write (RLIMIT_FSIZE, default 1 GiB).
        max_raster_pixels: most pixels of a raster band read for zonal statistics (default 200 000 000).
    """

    max_unzipped_bytes: int = 512 * MIB
    max_zip_ratio: float = 100.0
    zip_ratio_floor: int = 8 * MIB
    max_zip_members: int = 1000
    max_features: int | None = 100_000
    max_vertices: int | None = 5_000_000
    max_text_lines: int = 2_000_000
    max_json_depth: int = 32
    snippet_chars: int = 80
    isolate: bool = False
    timeout_s: float = 60.0
    cpu_s: int = 60
    memory_bytes: int = 3 * 1024 * MIB
    file_bytes: int = 1024 * MIB
    max_raster_pixels: int = 200_000_000

    def with_(self, **changes: Any) -> Limits:
        """A copy with some fields changed (``dataclasses.replace``)."""
        return replace(self, **changes)


#: The defaults, for web requests and any caller that passes none.
DEFAULT_LIMITS = Limits()
#: The command line: the user's own files, no feature or vertex bound, no isolation.
CLI_LIMITS = Limits(max_features=None, max_vertices=None, max_text_lines=50_000_000)


def resolve(limits: Limits | None) -> Limits:
    """``limits`` or :data:`DEFAULT_LIMITS` when None."""
    return DEFAULT_LIMITS if limits is None else limits


def snippet(text: str | bytes, limits: Limits | None = None) -> str:
    """A piece of user input fit to quote in an error message: at most ``snippet_chars`` characters.

    Args:
        text: the input (bytes are decoded leniently, as UTF-8).
        limits: where ``snippet_chars`` comes from (default :data:`DEFAULT_LIMITS`).

    Returns:
        ``repr`` of the text cut to ``snippet_chars`` characters, followed by ``…`` when cut.
    """
    n = resolve(limits).snippet_chars
    cut = False
    if isinstance(text, bytes | bytearray):
        cut = len(text) > n * 4
        text = bytes(text[: n * 4]).decode("utf-8", errors="replace")
    if len(text) > n:
        text, cut = text[:n], True
    return repr(text) + ("…" if cut else "")
