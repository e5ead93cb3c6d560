"""Boundary-point lists (界址点坐标) and pasted coordinates.

Accepted (details and examples in ``docs/overlap.md``):

**Exchange file** (the land-administration TXT with ``[属性描述]`` and ``[地块坐标]``): the header's
``坐标系`` (2000国家大地坐标系 / 80西安坐标系 / 54北京坐标系), ``几度分带`` (3 or 6) and ``带号`` declare
the CRS; each parcel starts with a line ending in ``@`` (界址点数, 地块面积, 地块编号, 地块名称,
图形属性, 图幅号, 地块用途, 地类编码, @) followed by points ``点号,圈号,X,Y`` where X is the
northing and Y the easting (survey convention) and 圈号 numbers the rings.

**CSV/TXT point list**: one point per line, fields separated by commas (also ``，``), tabs,
semicolons or spaces:

* with a header naming the columns: point (点号/界址点号/点名/id/no/point), X and Y (X/Y, X坐标/Y坐标,
  东坐标/北坐标, E/N, easting/northing, 经度/纬度, lon/lat), optionally ring (圈号/环号/ring/part)
  and parcel (地块号/地块编号/宗地号/宗地代码/地块名称/parcel/parcel_id);
* without a header: ``X,Y`` | ``点号,X,Y`` | ``点号,圈号,X,Y``.

**Pasted coordinates**: the same, or several ``x,y`` pairs on one line (one ring per line),
or WKT ``POLYGON``/``MULTIPOLYGON`` text.

Rings: a ring ends where its first point repeats (same coordinates or the same point number)
or at a blank line, or where the ring number changes. Rings are grouped into parcels by the
parcel column or the exchange file's blocks; without either, every ring that does not lie
inside an earlier one starts a new parcel. Within a parcel a ring inside another is a hole,
any other ring another part (MultiPolygon). Which of X/Y is the easting is left to
:mod:`gisapp.core.crsinfer` (it detects northing-first and says so) unless the header says E/N or
lon/lat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from gisapp.core.errors import InputError
from gisapp.core.limits import Limits, resolve, snippet
from gisapp.io.readers import RawInput

_NUM = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_SPLIT = re.compile(r"[,，;；\t ]+")
_HEADERS = {
    "point": ("点号", "界址点号", "界址点", "点名", "序号", "id", "no", "point", "pt", "name"),
    "x": ("x", "x坐标", "东坐标", "e", "easting", "经度", "lon", "lng", "longitude"),
    "y": ("y", "y坐标", "北坐标", "n", "northing", "纬度", "lat", "latitude"),
    "ring": ("圈号", "环号", "环", "ring", "part", "圈"),
    "parcel": ("地块号", "地块编号", "宗地号", "宗地代码", "地块名称", "地块", "宗地", "parcel", "parcel_id", "plot"),
}
_DATUMS = {"2000": "CGCS2000", "80": "Xian 1980", "西安": "Xian 1980", "54": "Beijing 1954", "北京": "Beijing 1954"}


@dataclass
class _Ring:
    parcel: str | None
    ring: str | None
    points: list[tuple[float, float]] = field(default_factory=list)
    first_id: str | None = None


def _is_num(token: str) -> bool:
    return bool(_NUM.match(token))


def _decode(data: bytes) -> tuple[str, str]:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc), enc.replace("-sig", "").upper()
        except UnicodeDecodeError:
            continue
    raise InputError("the text is neither UTF-8 nor GBK", code="unknown_encoding")


def _header_crs(lines: list[str]) -> tuple[CRS | None, str]:
    from gisapp.core.crsinfer import gauss_kruger_crs

    kv = {}
    for line in lines:
        if "=" in line:
            k, _, v = line.partition("=")
            kv[k.strip()] = v.strip()
    system = kv.get("坐标系", "")
    datum = next((d for key, d in _DATUMS.items() if key in system), None)
    if datum is None:
        if "84" in system:
            return CRS.from_user_input("EPSG:4326"), "header 坐标系=WGS84"
        return None, ""
    width = 6 if kv.get("几度分带", "3").strip().startswith("6") else 3
    zone = kv.get("带号", "").strip()
    if not zone.isdigit():
        return None, ""
    crs = gauss_kruger_crs(datum, width, zone=int(zone))
    return crs, f"header 坐标系={system}, 几度分带={width}, 带号={zone}"


def _exchange_rings(lines: list[str]) -> tuple[list[_Ring], list[dict[str, str]]]:
    rings: list[_Ring] = []
    parcels: list[dict[str, str]] = []
    current: str | None = None
    for n, line in enumerate(lines, start=1):
        fields = [f.strip() for f in line.split(",")]
        if line.rstrip().endswith("@"):
            name = fields[3] if len(fields) > 3 else ""
            pid = fields[2] or name or str(len(parcels) + 1)
            current = pid
            parcels.append(
                {
                    "parcel_id": pid,
                    "地块名称": name,
                    "stated_area": fields[1] if len(fields) > 1 else "",
                    "地块用途": fields[6] if len(fields) > 6 else "",
                    "图形属性": fields[4] if len(fields) > 4 else "",
                }
            )
            continue
        if not line.strip():
            continue
        if current is None or len(fields) < 4 or not (_is_num(fields[2]) and _is_num(fields[3])):
            raise InputError(
                f"line {n} of [地块坐标] is not '点号,圈号,X,Y': {snippet(line.strip())}", code="invalid_points"
            )
        ring_no = fields[1]
        if not rings or rings[-1].parcel != current or rings[-1].ring != ring_no or _closed(rings[-1]):
            rings.append(_Ring(current, ring_no, first_id=fields[0]))
        rings[-1].points.append((float(fields[2]), float(fields[3])))
    return rings, parcels


def _closed(ring: _Ring) -> bool:
    return len(ring.points) >= 4 and ring.points[0] == ring.points[-1]


def _columns(header: list[str]) -> dict[str, int]:
    cols: dict[str, int] = {}
    for i, name in enumerate(header):
        key = name.strip().lower()
        for role, names in _HEADERS.items():
            if key in names and role not in cols:
                cols[role] = i
                break
    return cols


def _list_rings(lines: list[str]) -> tuple[list[_Ring], str]:
    rows = [(n, [t for t in _SPLIT.split(line.strip()) if t]) for n, line in enumerate(lines, start=1)]
    first = next((r for _, r in rows if r), [])
    cols: dict[str, int] = {}
    how = ""
    if len(first) >= 2 and not (_is_num(first[-1]) and _is_num(first[-2])):
        cols = _columns(first)
        if "x" not in cols or "y" not in cols:
            raise InputError(
                f"the header {snippet(' '.join(first))} names no X and Y columns (X/Y, 东坐标/北坐标, 经度/纬度 …)",
                code="invalid_points",
            )
        how = f"header columns {snippet(' '.join(first))}"
        rows = rows[[r for _, r in rows].index(first) + 1 :]
    rings: list[_Ring] = []
    new_ring = True
    for n, tokens in rows:
        if not tokens:
            new_ring = True
            continue
        if not cols and len(tokens) >= 6 and len(tokens) % 2 == 0 and all(_is_num(t) for t in tokens):
            vals = [float(t) for t in tokens]
            rings.append(_Ring(None, None, list(zip(vals[::2], vals[1::2]))))
            new_ring = True
            continue
        if cols:
            try:
                x, y = float(tokens[cols["x"]]), float(tokens[cols["y"]])
            except (IndexError, ValueError) as exc:
                raise InputError(
                    f"line {n}: no number in the X/Y columns: {snippet(' '.join(tokens))}", code="invalid_points"
                ) from exc
            pid = tokens[cols["point"]] if "point" in cols and cols["point"] < len(tokens) else None
            ring_no = tokens[cols["ring"]] if "ring" in cols and cols["ring"] < len(tokens) else None
            parcel = tokens[cols["parcel"]] if "parcel" in cols and cols["parcel"] < len(tokens) else None
        else:
            nums = tokens[-2:]
            if len(tokens) < 2 or not all(_is_num(t) for t in nums) or len(tokens) > 4:
                raise InputError(
                    f"line {n} is not 'X,Y', '点号,X,Y' or '点号,圈号,X,Y': {snippet(' '.join(tokens))}",
                    code="invalid_points",
                )
            x, y = float(nums[0]), float(nums[1])
            pid = tokens[0] if len(tokens) >= 3 else None
            ring_no = tokens[1] if len(tokens) == 4 else None
            parcel = None
        last = rings[-1] if rings else None
        if last is not None and not new_ring and not _closed(last) and (last.ring, last.parcel) == (ring_no, parcel):
            if pid is not None and pid == last.first_id and len(last.points) >= 3:
                last.points.append(last.points[0])  # the first point number repeated closes the ring
            else:
                last.points.append((x, y))
            continue
        rings.append(_Ring(parcel, ring_no, [(x, y)], first_id=pid))
        new_ring = False
    return rings, how


def _containers(polys: list[shapely.Polygon]) -> list[list[int]]:
    """For every ring, the other rings that contain it (one STRtree query: linear for disjoint rings).

    Raises:
        InputError: ``too_complex`` (422) when rings nest so deeply that the pairs would take
            quadratic time (more than ``20 n + 200 000`` containment pairs).
    """
    out: list[list[int]] = [[] for _ in polys]
    if len(polys) < 2:
        return out
    arr = np.empty(len(polys), dtype=object)
    arr[:] = polys
    tree = shapely.STRtree(arr)
    budget = 20 * len(polys) + 200_000
    inner, outer = tree.query(arr, predicate="intersects")
    if len(inner) > budget + len(polys):
        raise InputError(
            f"{len(polys)} rings overlap each other too often to be grouped ({len(inner)} pairs)",
            code="too_complex",
            status=422,
        )
    keep = inner != outer
    inner, outer = inner[keep], outer[keep]
    if len(inner):
        inside = shapely.contains(arr[outer], arr[inner])
        for i, j in zip(inner[inside].tolist(), outer[inside].tolist(), strict=True):
            out[i].append(j)
    return out


def _assemble(rings: list[_Ring], grouped: bool) -> tuple[list[BaseGeometry], list[str | None]]:
    polys = []
    for r in rings:
        pts = r.points[:-1] if len(r.points) > 1 and r.points[0] == r.points[-1] else r.points
        if len(pts) < 3:
            where = snippet(r.first_id) if r.first_id else snippet(str(pts[:1]))
            raise InputError(
                f"ring starting at point {where} has {len(pts)} distinct points: a ring needs 3",
                code="invalid_points",
            )
        if not np.isfinite(np.asarray(pts, dtype=float)).all():
            raise InputError(
                f"ring starting at point {snippet(r.first_id or str(pts[:1]))} has a coordinate that is not a "
                "finite number",
                code="invalid_points",
            )
        polys.append(shapely.Polygon(pts))
    containers = _containers(polys)
    groups: dict[str, list[int]] = {}
    order: list[str] = []
    starter_key: dict[int, str] = {}
    for i, r in enumerate(rings):
        key = r.parcel if grouped else None
        if key is None:
            # the latest earlier ring that started a group and contains this one hosts it
            hosts = [j for j in containers[i] if j < i and j in starter_key]
            key = starter_key[max(hosts)] if hosts else f"#{i + 1}"
        if key not in groups:
            groups[key] = []
            order.append(key)
            starter_key[i] = key
        groups[key].append(i)
    geoms: list[BaseGeometry] = []
    ids: list[str | None] = []
    for key in order:
        members = sorted(groups[key], key=lambda i: -polys[i].area)
        rank = {i: k for k, i in enumerate(members)}
        shells: dict[int, list] = {}
        for i in members:
            hosts = [j for j in containers[i] if j in shells and rank[j] < rank[i]]
            if hosts:
                shells[min(hosts, key=rank.__getitem__)].append(polys[i].exterior.coords)
            else:
                shells[i] = []
        parts = [shapely.Polygon(polys[i].exterior.coords, holes) for i, holes in shells.items()]
        geoms.append(parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts))
        ids.append(None if key.startswith("#") else key)
    return geoms, ids


def _wkt(text: str) -> RawInput:
    try:
        geoms = [shapely.from_wkt(line) for line in text.splitlines() if line.strip()]
    except shapely.errors.GEOSException as exc:
        raise InputError(f"not valid WKT: {snippet(str(exc))}", code="invalid_points") from exc
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = geoms
    return RawInput(arr, pd.DataFrame(index=range(len(geoms))), None, "", "text", notes=["WKT text"])


def read_points_text(data: bytes, limits: Limits | None = None) -> RawInput:
    """Read a boundary-point file, a point list or pasted coordinates (see module docstring).

    Linear time in the number of points and rings (rings are grouped with one STRtree query).

    Args:
        data: the text's bytes (UTF-8, or GBK/GB18030 as land-registry software writes).
        limits: the request's bounds (``max_text_lines``; quoted lines are cut to ``snippet_chars``).

    Returns:
        a :class:`~gisapp.io.readers.RawInput` with ``format = "points"`` (or ``"text"`` for WKT),
        one Polygon/MultiPolygon per parcel; ``crs`` from an exchange-file header, else None.

    Raises:
        InputError: ``invalid_points`` (a line that is not a point, a ring of < 3 points, a
            header without X/Y), ``unknown_encoding``, ``too_many_lines`` (413), ``too_complex`` (422).
    """
    lim = resolve(limits)
    if data.count(b"\n") > lim.max_text_lines:
        raise InputError(f"more than {lim.max_text_lines} lines of text", code="too_many_lines", status=413)
    text, encoding = _decode(data)
    stripped = text.strip()
    if re.match(r"^(MULTI)?POLYGON\s*(Z\s*)?\(", stripped, re.I):
        return _wkt(stripped)
    lines = text.splitlines()
    notes = [f"text encoding {encoding}"]
    if "[地块坐标]" in text:
        at = next(i for i, line in enumerate(lines) if line.strip() == "[地块坐标]")
        crs, source = _header_crs(lines[:at])
        rings, parcels = _exchange_rings(lines[at + 1 :])
        if not rings:
            raise InputError("[地块坐标] lists no points", code="invalid_points")
        geoms, ids = _assemble(rings, grouped=True)
        by_id = {p["parcel_id"]: p for p in parcels}
        props = pd.DataFrame([{k: v for k, v in by_id.get(i or "", {}).items() if k != "parcel_id"} for i in ids])
        notes.append(f"land exchange file ([属性描述]/[地块坐标]): {len(geoms)} parcels, {len(rings)} rings")
        fmt = "points"
    else:
        rings, how = _list_rings(lines)
        if not rings:
            raise InputError("no coordinates found in the text", code="invalid_points")
        geoms, ids = _assemble(rings, grouped=any(r.parcel is not None for r in rings))
        props = pd.DataFrame(index=range(len(geoms)))
        crs, source = None, ""
        notes.append(f"point list ({how or 'no header'}): {len(geoms)} parcels, {len(rings)} rings")
        fmt = "points"
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = geoms
    return RawInput(
        geometries=arr,
        properties=props,
        crs=crs,
        crs_source=source,
        format=fmt,
        ids=ids if any(i is not None for i in ids) else None,
        notes=notes,
    )
