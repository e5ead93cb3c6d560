"""The CRS of submitted coordinates: declared, given, or inferred — and always stated.

Order of precedence (../shared/DESIGN.md "Coordinates and areas"; issue 5 §2):

1. a CRS the user gives (``--crs`` / ``?crs=``); it must not contradict one the file declares;
2. a CRS the file declares (``.prj``, GeoPackage/GeoParquet metadata, a GeoJSON ``crs`` member,
   KML = WGS 84, a boundary-point file's ``[属性描述]`` header);
3. a format's default (GeoJSON without ``crs`` = WGS 84, RFC 7946) when the numbers agree;
4. otherwise inferred from the coordinate ranges (:func:`infer_candidates`):

   * |x| ≤ 180 and |y| ≤ 90: degrees, WGS 84 lon/lat (CGCS2000 lon/lat is the same to far
     below planning precision);
   * eastings of 8 digits: a Gauss-Kruger zone *with* its zone prefix, e.g. 38 xxx xxx m =
     CGCS2000 3-degree zone 38, CM 114°E (EPSG:4526); 6-degree zones 13–23 likewise;
   * eastings of 6 digits (100 000–999 999 m) and northings of 7: CGCS2000 3-degree GK
     CM 114°E without prefix (EPSG:4547) — the project's standard CRS; data on CM 111°E or
     117°E, or on Xi'an 1980 / Beijing 1954, must be declared;
   * each of these also with X and Y swapped (survey convention: X = northing).

   The first candidate that puts the data inside the Pearl River Delta box
   (:data:`gisapp.core.crs.PRD_BOUNDS`) wins, and the result says it was inferred.

Coordinates the user marks as GCJ-02 or BD-09 (``datum=``) are converted to WGS 84 with
:mod:`gisapp.core.chinacrs` before projection. Everything ends in EPSG:4547 (metres), where the
overlap is measured; data outside the Pearl River Delta after all this is rejected.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError

from gisapp.core.chinacrs import DATUMS, convert_geometries
from gisapp.core.crs import PRD_BOUNDS, PROJECTED, WGS84, parse_crs
from gisapp.core.errors import InputError

#: pyproj CRS objects of the two CRSs used everywhere (built once: CRS() costs ~0.1 ms).
WGS84_CRS: CRS = CRS.from_user_input(WGS84)
PROJECTED_CRS: CRS = CRS.from_user_input(PROJECTED)

_DATUM_NAMES = {"wgs84": "WGS 84", "gcj02": "GCJ-02", "bd09": "BD-09"}

#: Plausible northings (m) of the Pearl River Delta in a Gauss-Kruger projection (≈ 21°–25°N).
NORTHING_RANGE = (2_000_000.0, 3_000_000.0)


@dataclass
class CrsDecision:
    """How the coordinates of a submission were interpreted.

    Attributes:
        crs: the CRS the coordinates were read in, ``"EPSG:nnnn"`` (or WKT/PROJ text if no code).
        name: its name (e.g. ``CGCS2000 / 3-degree Gauss-Kruger zone 38``).
        how: ``declared`` (by the file), ``given`` (by the user), ``default`` (RFC 7946) or
            ``inferred`` (from the numbers).
        source: what declared it (``.prj`` …) or why it was inferred.
        swapped: True when X and Y were exchanged (northing given first).
        datum: ``wgs84``, ``gcj02`` or ``bd09`` — what lon/lat were in before conversion.
        statement: one sentence for the user, Chinese first, then English.
    """

    crs: str
    name: str
    how: str
    source: str
    swapped: bool
    datum: str
    statement: str

    @property
    def label(self) -> str:
        """Short label used as ``input_crs``: ``EPSG:4547``, ``EPSG:4326 (RFC 7946 default)``,
        ``EPSG:4526 (inferred, X/Y swapped)`` …"""
        tags = []
        if self.how == "default":
            tags.append("RFC 7946 default")
        elif self.how in ("inferred", "given"):
            tags.append(self.how)
        if self.swapped:
            tags.append("X/Y swapped")
        if self.datum != "wgs84":
            tags.append(f"from {_DATUM_NAMES[self.datum]}")
        return f"{self.crs} ({', '.join(tags)})" if tags else self.crs

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields plus ``label``."""
        return {**asdict(self), "label": self.label}


@lru_cache(maxsize=256)
def cached_crs(value: str) -> CRS:
    """:func:`gisapp.core.crs.parse_crs` for text values, cached (a CRS costs ~2 ms to build on a new thread).

    Raises:
        InputError: ``unknown_crs``.
    """
    return parse_crs(value)


def gauss_kruger_crs(datum: str, zone_width: int, zone: int | None = None, cm: int | None = None) -> CRS:
    """A Chinese Gauss-Kruger CRS by datum, zone width and zone number (prefix) or central meridian.

    Args:
        datum: ``CGCS2000``, ``Xian 1980`` or ``Beijing 1954`` (pyproj database names).
        zone_width: 3 or 6 (degrees).
        zone: zone number when eastings carry it as a prefix (3°: 25–45, 6°: 13–23).
        cm: central meridian in degrees east when eastings have no prefix.

    Returns:
        the pyproj CRS, looked up by its EPSG name (e.g. ``CGCS2000 / 3-degree Gauss-Kruger
        zone 38`` = EPSG:4526, ``… CM 114E`` = EPSG:4547).

    Raises:
        InputError: ``unknown_crs`` when the combination is not in the EPSG database.
    """
    width = "3-degree " if zone_width == 3 else ""
    where = f"zone {zone}" if zone is not None else f"CM {cm}E"
    return cached_crs(f"{datum} / {width}Gauss-Kruger {where}")


@lru_cache(maxsize=64)
def _transformer(src: CRS, dst: str | CRS) -> Transformer:
    return Transformer.from_crs(src, CRS.from_user_input(dst), always_xy=True)


def transformer(src: CRS, dst: str | CRS) -> Transformer:
    """A cached pyproj transformer from ``src`` to ``dst`` with x = easting/longitude.

    Use it only on the threads of :data:`PROJ_POOL` (see :func:`transform_xy`): pyproj rebuilds
    a transformer for every new thread that uses it (~80 ms here).
    """
    return _transformer(src, dst)


class _LazyPool:
    """A thread pool started on first use, and started anew in a forked child process.

    Starting it at import would leave live threads in every process that forks afterwards
    (gunicorn workers, :mod:`gisapp.io.isolation`), and a fork copies no thread: the child's pool
    would wait forever. :func:`os.register_at_fork` drops the pool in the child.
    """

    def __init__(self, workers: int, prefix: str) -> None:
        self._workers = workers
        self._prefix = prefix
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._pool = None
        self._lock = threading.Lock()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Submit ``fn(*args, **kwargs)`` to the pool (started if need be); returns a Future."""
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix=self._prefix)
        return self._pool.submit(fn, *args, **kwargs)


#: Long-lived threads that run every pyproj transformation. pyproj keeps a PROJ context per
#: thread and re-creates a transformer the first time a thread uses it (~80 ms); a web server
#: runs each request on a new thread, so transformations are handed to these threads instead.
#: Started lazily, and safe across fork (:class:`_LazyPool`).
PROJ_POOL = _LazyPool(os.cpu_count() or 2, "gisapp-proj")
_PROJ_CHUNK = 500_000


def _on_proj_thread() -> bool:
    """True on a long-lived thread (the main thread or :data:`PROJ_POOL`'s), where pyproj may run directly."""
    current = threading.current_thread()
    return current is threading.main_thread() or current.name.startswith("gisapp-proj")


def transform_xy(src: CRS, dst: str | CRS, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinate arrays from ``src`` to ``dst`` (x = easting/longitude) on :data:`PROJ_POOL`.

    Large arrays are split over the pool's threads (pyproj releases the GIL).

    Returns:
        ``(x, y)`` float arrays in ``dst``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if _on_proj_thread():
        return transformer(src, dst).transform(x, y)
    if len(x) <= _PROJ_CHUNK:
        return PROJ_POOL.submit(lambda: transformer(src, dst).transform(x, y)).result()
    parts = [
        PROJ_POOL.submit(lambda s=s: transformer(src, dst).transform(x[s : s + _PROJ_CHUNK], y[s : s + _PROJ_CHUNK]))
        for s in range(0, len(x), _PROJ_CHUNK)
    ]
    out = [f.result() for f in parts]
    return np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out])


def transform_geoms(geoms: np.ndarray, src: CRS, dst: str | CRS) -> np.ndarray:
    """shapely geometries transformed from ``src`` to ``dst`` (through :func:`transform_xy`)."""
    return shapely.transform(geoms, lambda xy: np.column_stack(transform_xy(src, dst, xy[:, 0], xy[:, 1])))


@lru_cache(maxsize=256)
def _code_of(srs: str) -> str:
    crs = cached_crs(srs)
    auth = crs.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else crs.to_string()


def _code(crs: CRS) -> str:
    # memoised by the CRS's source text: to_authority() queries the PROJ database (~2 ms on a new thread)
    return _code_of(crs.srs)


@lru_cache(maxsize=256)
def _same_srs(a: str, b: str, ignore_axis_order: bool) -> bool:
    return cached_crs(a).equals(cached_crs(b), ignore_axis_order=ignore_axis_order)


@lru_cache(maxsize=256)
def _facts_of(srs: str) -> tuple[bool, str]:
    crs = cached_crs(srs)
    return bool(crs.is_geographic), str(crs.name)


def is_geographic(crs: CRS) -> bool:
    """``crs.is_geographic``, memoised (pyproj rebuilds its PROJ object on every new thread, ~1 ms)."""
    return _facts_of(crs.srs)[0]


def crs_name(crs: CRS) -> str:
    """``crs.name``, memoised like :func:`is_geographic`."""
    return _facts_of(crs.srs)[1]


def same_crs(a: CRS, b: CRS, ignore_axis_order: bool = False) -> bool:
    """``a.equals(b)``, memoised by the CRSs' source texts (equals() costs ~1 ms on a new thread)."""
    return a is b or _same_srs(a.srs, b.srs, ignore_axis_order)


def _total_bounds(geoms: np.ndarray) -> tuple[float, float, float, float]:
    """``(minx, miny, maxx, maxy)`` of ``geoms`` as Python floats (NaN when all are empty)."""
    x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(geoms))
    return x0, y0, x1, y1


def _swap(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: xy[:, ::-1])


def _lonlat_box(crs: CRS, bounds: tuple[float, float, float, float], swapped: bool) -> tuple[float, ...]:
    x0, y0, x1, y1 = bounds
    if swapped:
        x0, y0, x1, y1 = y0, x0, y1, x1
    xs = np.array([x0, x1, x0, x1, (x0 + x1) / 2])
    ys = np.array([y0, y0, y1, y1, (y0 + y1) / 2])
    if is_geographic(crs):
        lon, lat = xs, ys
    else:
        with np.errstate(all="ignore"):
            lon, lat = transform_xy(crs, WGS84, xs, ys)
    return float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))


@lru_cache(maxsize=64)
def _work_box(srs: str) -> tuple[float, float, float, float]:
    """The bounds of :data:`PRD_BOUNDS` (edges densified) expressed in the projected CRS ``srs``."""
    x0, y0, x1, y1 = PRD_BOUNDS
    t = np.linspace(0.0, 1.0, 41)
    lon = np.concatenate([x0 + (x1 - x0) * t, np.full(41, x1), x1 - (x1 - x0) * t, np.full(41, x0)])
    lat = np.concatenate([np.full(41, y0), y0 + (y1 - y0) * t, np.full(41, y1), y1 - (y1 - y0) * t])
    x, y = transform_xy(WGS84_CRS, cached_crs(srs), lon, lat)
    return float(np.min(x)), float(np.min(y)), float(np.max(x)), float(np.max(y))


def _fits(crs: CRS, bounds: tuple[float, float, float, float], swapped: bool) -> bool:
    """True when data with these native bounds (read in ``crs``, maybe swapped) lies in the work area.

    Projected CRSs compare against the work area's box in that CRS (cached): no transformation
    per request.
    """
    x0, y0, x1, y1 = bounds
    if swapped:
        x0, y0, x1, y1 = y0, x0, y1, x1
    if is_geographic(crs):
        return in_work_area((x0, y0, x1, y1))
    if not all(np.isfinite((x0, y0, x1, y1))):
        return False
    bx0, by0, bx1, by1 = _work_box(crs.srs)
    return bx0 <= x0 and x1 <= bx1 and by0 <= y0 and y1 <= by1


def in_work_area(box: tuple[float, ...]) -> bool:
    """True when a lon/lat box ``(minx, miny, maxx, maxy)`` lies inside :data:`PRD_BOUNDS`."""
    if not all(np.isfinite(box)):
        return False
    bx0, by0, bx1, by1 = PRD_BOUNDS
    return bx0 <= box[0] and box[2] <= bx1 and by0 <= box[1] and box[3] <= by1


def infer_candidates(bounds: tuple[float, float, float, float]) -> list[tuple[CRS, bool, str]]:
    """CRSs the coordinate ranges could be in, most likely first (see the module docstring).

    Args:
        bounds: ``(minx, miny, maxx, maxy)`` of the coordinates as written.

    Returns:
        ``[(crs, swapped, reason)]``; empty when the numbers fit no rule.
    """
    x0, y0, x1, y1 = bounds
    out: list[tuple[CRS, bool, str]] = []
    lim = max(abs(x0), abs(x1)), max(abs(y0), abs(y1))
    if (lim[0] <= 180 and lim[1] <= 90) or (lim[0] <= 90 and lim[1] <= 180):
        degrees = "coordinates are degrees"
        if lim[0] <= 180 and lim[1] <= 90:
            out.append((WGS84_CRS, False, degrees + " (longitude, latitude)"))
        if lim[0] <= 90 and lim[1] <= 180:
            out.append((WGS84_CRS, True, degrees + ", latitude first"))
        return out
    for (e0, e1), (n0, n1), swapped in (((x0, x1), (y0, y1), False), ((y0, y1), (x0, x1), True)):
        if not (NORTHING_RANGE[0] <= n0 and n1 <= NORTHING_RANGE[1]):
            continue
        if 1e7 <= e0 and e1 < 1e8 and int(e0 // 1e6) == int(e1 // 1e6):
            zone = int(e0 // 1e6)
            if 25 <= zone <= 45:
                crs = gauss_kruger_crs("CGCS2000", 3, zone=zone)
            elif 13 <= zone <= 23:
                crs = gauss_kruger_crs("CGCS2000", 6, zone=zone)
            else:
                continue
            out.append((crs, swapped, f"eastings of 8 digits carry the zone prefix {zone}"))
        elif 1e5 <= e0 and e1 < 1e6:
            crs = gauss_kruger_crs("CGCS2000", 3, cm=114)
            out.append(
                (crs, swapped, "eastings of 6 digits without zone prefix: the project's standard CM 114°E assumed")
            )
    return out


def _statement(crs: CRS, how: str, source: str, swapped: bool, datum: str) -> str:
    code, name = _code(crs), crs_name(crs)
    if how == "declared":
        zh, en = f"坐标系：{name}（{source} 声明）", f"CRS {code} ({name}) as declared by {source}"
    elif how == "given":
        zh, en = f"坐标系：{name}（用户指定）", f"CRS {code} ({name}) as given by the user"
    elif how == "default":
        zh, en = "坐标系：WGS 84 经纬度（GeoJSON 未声明 crs，按 RFC 7946 默认）", f"CRS {code}: the RFC 7946 default"
    else:
        zh = f"坐标系为推断：{name}（{code}），依据坐标数值范围"
        en = f"CRS INFERRED, not declared: {code} ({name}) because {source}; declare the CRS to override"
    if swapped:
        zh += "；X/Y 已互换（X 为北坐标）"
        en += "; X and Y swapped (the file gives northing/latitude first)"
    if datum != "wgs84":
        pretty = _DATUM_NAMES[datum]
        zh += f"；{pretty} 坐标已转换为 WGS 84"
        en += f"; {pretty} lon/lat converted to WGS 84 (prcoords)"
    return f"{zh}。{en}."


#: Semi-major axes (m) accepted as the Earth's: every terrestrial ellipsoid lies in this range.
EARTH_SEMI_MAJOR = (6_370_000.0, 6_380_000.0)


def check_earth_crs(crs: CRS, where: str) -> None:
    """Check that ``crs`` is a CRS of the Earth (its ellipsoid is terrestrial, it is not geocentric).

    Raises:
        InputError: ``unknown_crs`` (422) for a CRS on another body (IAU codes, a sphere of
            the Moon's radius), without an ellipsoid, or geocentric.
    """
    try:
        ellipsoid = crs.ellipsoid
        axis = float(ellipsoid.semi_major_metre) if ellipsoid is not None else float("nan")
        geocentric = bool(crs.is_geocentric)
    except (CRSError, ProjError, AttributeError) as exc:
        raise InputError(
            f"the CRS of {where} cannot be used: {str(exc)[:160]}", code="unknown_crs", status=422
        ) from exc
    if not EARTH_SEMI_MAJOR[0] <= axis <= EARTH_SEMI_MAJOR[1] or geocentric:
        what = "geocentric" if geocentric else f"on an ellipsoid of semi-major axis {axis:.0f} m, not the Earth's"
        raise InputError(f"the CRS of {where} ({crs_name(crs)[:80]}) is {what}", code="unknown_crs", status=422)


def _outside(box: tuple[float, ...], what: str) -> InputError:
    return InputError(
        f"parcels lie outside the Pearl River Delta work area (lon {box[0]:.10g}–{box[2]:.10g}, "
        f"lat {box[1]:.10g}–{box[3]:.10g} in {what}); check the CRS and the axis order",
        code="outside_work_area",
        status=422,
    )


def resolve_crs(
    geoms: np.ndarray,
    declared: CRS | None,
    declared_source: str = "",
    declared_is_default: bool = False,
    user_crs: str | None = None,
    datum: str = "wgs84",
    infer: bool = True,
) -> tuple[np.ndarray, CrsDecision]:
    """Decide the CRS of ``geoms`` and project them to EPSG:4547.

    Args:
        geoms: shapely geometries as written in the file (any coordinates).
        declared: the CRS the file declares, or None.
        declared_source: where the declaration comes from (for the statement).
        declared_is_default: the declaration is only a format default (GeoJSON/RFC 7946).
        user_crs: a CRS the user gives (anything :func:`gisapp.core.crs.parse_crs` accepts), or None.
        datum: ``wgs84`` | ``gcj02`` | ``bd09``: the datum of lon/lat coordinates.
        infer: allow inference; False makes an undeclared CRS an error.

    Returns:
        ``(projected, decision)``: the geometries in EPSG:4547 (metres) and the
        :class:`CrsDecision`.

    Raises:
        InputError: ``unknown_crs``; ``crs_conflict`` (given ≠ declared); ``missing_crs``
            (nothing declared and ``infer`` False, or the numbers fit no rule);
            ``unknown_datum``; ``datum_needs_lonlat`` (GCJ-02/BD-09 on projected data);
            ``outside_work_area`` (HTTP 422).
    """
    datum = (datum or "wgs84").lower()
    if datum not in DATUMS:
        raise InputError(f"unknown datum '{datum}': use one of {', '.join(DATUMS)}", code="unknown_datum")
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0 or bool(shapely.is_empty(geoms).all()):
        raise InputError("no coordinates in the input (every geometry is empty)", code="empty_input", status=422)
    with np.errstate(all="ignore"):
        bounds = _total_bounds(geoms)
    if not all(np.isfinite(bounds)):
        raise InputError("the input has coordinates that are not finite numbers", code="invalid_coordinates")
    if declared is not None:
        check_earth_crs(declared, declared_source or "the file")
    choices: list[tuple[CRS, bool, str]]
    if user_crs:
        crs = cached_crs(str(user_crs))
        check_earth_crs(crs, "the CRS given")
        if declared is not None and not declared_is_default and not same_crs(crs, declared, ignore_axis_order=True):
            raise InputError(
                f"the CRS given ({_code(crs)}) contradicts the one {declared_source} declares ({_code(declared)})",
                code="crs_conflict",
            )
        how, choices = "given", [(crs, False, "user"), (crs, True, "user")]
    elif declared is not None and not declared_is_default:
        how, choices = "declared", [(declared, False, declared_source), (declared, True, declared_source)]
    elif declared is not None and _fits(declared, bounds, False):
        how, choices = "default", [(declared, False, declared_source)]
    elif infer:
        how, choices = "inferred", infer_candidates(bounds)
        if declared_is_default:
            choices = [(c, s, f"{r} (the GeoJSON has no crs member and is not WGS 84 degrees)") for c, s, r in choices]
    else:
        raise InputError(
            "the input declares no CRS: give one (e.g. crs=EPSG:4547) or allow inference", code="missing_crs"
        )
    if not choices:
        raise InputError(
            f"the input declares no CRS and its coordinates (x {bounds[0]:.10g}–{bounds[2]:.10g}, "
            f"y {bounds[1]:.10g}–{bounds[3]:.10g}) match no known CRS of the region: give one, e.g. crs=EPSG:4547",
            code="missing_crs",
        )
    chosen = next(((c, s, r) for c, s, r in choices if _fits(c, bounds, s)), None)
    if chosen is None:
        crs, swapped, _ = choices[0]
        raise _outside(_lonlat_box(crs, bounds, swapped), f"{_code(crs)} ({how})")
    crs, swapped, reason = chosen
    if datum != "wgs84" and not is_geographic(crs):
        raise InputError(
            f"datum={datum} applies to lon/lat coordinates, but these are {_code(crs)} metres",
            code="datum_needs_lonlat",
        )
    out = _swap(geoms) if swapped else geoms
    if datum != "wgs84":
        out = convert_geometries(out, datum, "wgs84")
    src = WGS84_CRS if datum != "wgs84" else crs
    if not same_crs(src, PROJECTED_CRS):
        try:
            with np.errstate(all="ignore"):
                out = transform_geoms(out, src, PROJECTED)
        except (ProjError, CRSError) as exc:
            raise InputError(
                f"cannot transform from {_code(src)} to {PROJECTED}: {str(exc)[:160]}", code="unknown_crs", status=422
            ) from exc
    decision = CrsDecision(
        crs=_code(crs),
        name=crs_name(crs),
        how=how,
        source=reason,
        swapped=swapped,
        datum=datum,
        statement=_statement(crs, how, reason, swapped, datum),
    )
    out_bounds = _total_bounds(out)
    if not _fits(PROJECTED_CRS, out_bounds, False):
        raise _outside(_lonlat_box(PROJECTED_CRS, out_bounds, False), decision.label)
    return out, decision
