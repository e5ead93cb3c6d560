"""The geometry methods of zone files: one registry of name → (parameter model, builder, label).

Every element of a zone file (``zones/*.yaml``) has a ``geometry`` mapping whose ``method`` names
an entry of :data:`GEOMETRY_METHODS`. The entry's *parameter model* (pydantic) is what the file
must hold for that method: :mod:`gisapp.plans.zoneschema` validates every geometry against it and
exports it to ``docs/schemas/zones.schema.json``; the entry's *builder* draws the element from
those parameters; its *label* is the feature's ``geometry_method``. Adding a method is adding one
model, one builder and one :class:`GeometryMethod` line here; nothing else changes.

The methods are documented for users in :mod:`gisapp.plans.structures` and ``docs/structures.md``.
Builders work in EPSG:4547 (CGCS2000 / 3-degree GK CM 114E, metres); places and seats come in
as WGS 84 lon/lat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, get_args

import geopandas as gpd
import numpy as np
import shapely
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry.base import BaseGeometry

from gisapp.core.crs import PROJECTED, WGS84
from gisapp.plans.gazetteer import Place

#: The stored layers a definition's districts and city are looked up in (they hold the cities the
#: zone files name: :func:`gisapp.plans.basemaps.build_base_layers`).
DISTRICT_LAYER = "base-district"
CITY_LAYER = "base-city"
#: Geometry bases from most to least certain.
BASIS_ORDER: tuple[str, ...] = ("official", "schematic", "illustrative")

Basis = Literal["official", "schematic", "illustrative"]
Names = Annotated[list[str], Field(min_length=1)]
Number = Annotated[float, Field(strict=True)]
Positive = Annotated[float, Field(strict=True, gt=0)]


class GeometryError(Exception):
    """A geometry that cannot be drawn; the caller names the file (and, if ``of_element``, the element).

    Attributes:
        message: the reason, phrased to follow ``element '<id>'`` when ``of_element``.
        of_element: whether the problem is the element's (else the definition's, e.g. its city).
    """

    def __init__(self, message: str, of_element: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.of_element = of_element


# --------------------------------------------------------------------------- parameter models


class GeometryParams(BaseModel):
    """Keys every geometry may hold, whatever its method (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: str
    basis: Basis | None = Field(None, description="claim less certainty than the method gives, never more")
    basis_note: str = Field("", description="why the element is drawn this way (shown with the feature)")
    uncertainty_m: Number = Field(0.0, ge=0, description="declared positional uncertainty (m); builders raise it")
    towns: list[str] = Field(default_factory=list, description="镇街 (full or short names) the element lies in")
    districts: list[str] = Field(default_factory=list, description="districts (base layers) the element lies in")
    clip_towns: list[str] = Field(
        default_factory=list, description="intersect the drawn geometry with these 镇街 (its stated area is dropped)"
    )
    stated_area_km2: Number | None = Field(None, gt=0, description="the area the plan states (km²)")
    stated_area_source: str = Field("", description="where the stated area comes from")


class UnionOfTowns(GeometryParams):
    """The union of the named 镇街 cells; basis: the town layer's."""

    method: Literal["union_of_towns"]
    towns: Names


class UnionOfDistricts(GeometryParams):
    """The union of the named districts (official boundaries)."""

    method: Literal["union_of_districts"]
    districts: Names


class DiscInTowns(GeometryParams):
    """An illustrative disc of ``stated_area_km2`` centred on the towns' seats (or ``centre``), within them."""

    method: Literal["disc_in_towns"]
    towns: Names
    stated_area_km2: Positive
    centre: Literal["seat_mean"] | tuple[Number, Number] = Field(
        "seat_mean", description="'seat_mean' (mean of the towns' seats) or [lon, lat] (WGS 84)"
    )


class StatedAreaAroundPlaces(GeometryParams):
    """An illustrative area of exactly ``stated_area_km2`` around gazetteer places, within the named units."""

    method: Literal["stated_area_around_places"]
    places: Names
    stated_area_km2: Positive


class BufferAroundPlace(GeometryParams):
    """An illustrative disc of ``radius_m`` around one gazetteer place, within the named units or the city."""

    method: Literal["buffer_around_place"]
    place: str
    radius_m: Positive


class LineThroughPlaces(GeometryParams):
    """A belt: the line through the places in order, ``width_m`` wide, within the named units or the city."""

    method: Literal["line_through_places"]
    places: Annotated[list[str], Field(min_length=2)]
    width_m: Positive


class AlongSharedBoundary(GeometryParams):
    """A corridor ``width_m`` wide along the boundary two named towns share."""

    method: Literal["along_shared_boundary"]
    towns: Annotated[list[str], Field(min_length=2, max_length=2)]
    width_m: Positive


class PointAtPlace(GeometryParams):
    """A node at one gazetteer place."""

    method: Literal["point_at_place"]
    place: str


class PointLonLat(GeometryParams):
    """A node at ``lon``/``lat`` (WGS 84)."""

    method: Literal["point"]
    lon: Annotated[float, Field(strict=True, ge=-180, le=180)]
    lat: Annotated[float, Field(strict=True, ge=-90, le=90)]


class PointInUnits(GeometryParams):
    """A stand-in point for the named towns, districts or (neither) the whole city."""

    method: Literal["point_in_units"]


class Unplaced(GeometryParams):
    """An element the plan names but that cannot honestly be placed: not drawn, ``reason`` listed."""

    method: Literal["unplaced"]
    reason: str = Field(min_length=1)


# --------------------------------------------------------------------------- context and result


@dataclass
class Context:
    """What a definition's geometry rules may refer to (layers in EPSG:4326 on input).

    Attributes:
        towns: the 镇街 layer (``name``, ``short_name``, ``geometry_basis``, ``seat_lon``, ``seat_lat``).
        gazetteer: places by name.
        city: the definition's city.
        read_layer: reads a stored layer by id; used for :data:`DISTRICT_LAYER` / :data:`CITY_LAYER`
            when ``districts`` / ``cities`` are not given.
        districts: a district layer with ``name`` and ``city`` (``base-district``), or None (read when needed).
        cities: a city layer with ``name`` (``base-city``), or None (read when needed).
    """

    towns: gpd.GeoDataFrame
    gazetteer: dict[str, Place]
    city: str
    read_layer: Callable[[str], gpd.GeoDataFrame]
    districts: gpd.GeoDataFrame | None = None
    cities: gpd.GeoDataFrame | None = None
    _projected: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, repr=False)

    def _proj(self, key: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        if key not in self._projected:
            self._projected[key] = frame.set_index("name").to_crs(PROJECTED)
        return self._projected[key]

    def _districts(self) -> gpd.GeoDataFrame:
        if self.districts is None:
            self.districts = self.read_layer(DISTRICT_LAYER)
        return self.districts

    def town_cells(self) -> gpd.GeoDataFrame:
        """The 镇街 cells indexed by full name, EPSG:4547."""
        return self._proj("towns", self.towns)

    def district_geoms(self, names: list[str]) -> list[BaseGeometry]:
        """The named districts' polygons (EPSG:4547). Raises GeometryError for unknown names."""
        d = self._proj("districts", self._districts())
        unknown = [n for n in names if n not in d.index]
        if unknown:
            raise GeometryError(f"names unknown districts: {', '.join(unknown)}")
        return list(d.loc[names, "geometry"])

    def city_has_districts(self) -> bool:
        """Whether the district layer holds districts of the definition's city (中山市 has none)."""
        d = self._districts()
        return "city" in d and bool((d["city"] == self.city).any())

    def city_geom(self) -> BaseGeometry:
        """The definition's city (EPSG:4547). Raises GeometryError when the city layer lacks it."""
        if self.cities is None:
            self.cities = self.read_layer(CITY_LAYER)
        c = self._proj("cities", self.cities)
        if self.city not in c.index:
            raise GeometryError(f"city '{self.city}' is not in the city layer", of_element=False)
        return c.geometry.loc[self.city]

    def place(self, name: str) -> Place:
        """A gazetteer place. Raises GeometryError when it is not in the gazetteer."""
        if name not in self.gazetteer:
            raise GeometryError(f"names a place not in the gazetteer: {name}")
        return self.gazetteer[name]

    def clip_region(self, params: GeometryParams, members: list[str]) -> BaseGeometry:
        """The area an element is clipped to: its towns, its districts, or the definition's city (EPSG:4547)."""
        if members:
            return shapely.union_all(self.town_cells().loc[members, "geometry"].to_numpy())
        if params.districts:
            return shapely.union_all(self.district_geoms(list(params.districts)))
        return self.city_geom()


@dataclass
class Drawn:
    """A builder's result: geometry (EPSG:4547; None = not drawn), basis, places used, uncertainty (m), width (m)."""

    geom: BaseGeometry | None
    basis: str
    places: list[str] = field(default_factory=list)
    uncertainty_m: float = 0.0
    width_m: float | None = None


def project_point(p: shapely.Point) -> shapely.Point:
    """A WGS 84 lon/lat point in EPSG:4547."""
    out = gpd.GeoSeries([p], crs=WGS84).to_crs(PROJECTED).iloc[0]
    assert isinstance(out, shapely.Point)  # reprojection keeps the geometry type
    return out


def weakest(*bases: str) -> str:
    """The least certain of ``bases`` (see :data:`BASIS_ORDER`)."""
    return max(bases, key=BASIS_ORDER.index)


def _town_basis(cells: gpd.GeoDataFrame) -> str:
    return "official" if set(cells["geometry_basis"]) == {"official"} else "schematic"


# --------------------------------------------------------------------------- builders
# Each: (context, parameters, member towns (full names, resolved from ``towns``)) -> Drawn.


def _union_of_towns(ctx: Context, p: UnionOfTowns, members: list[str]) -> Drawn:
    cells = ctx.town_cells().loc[members]
    return Drawn(shapely.union_all(cells.geometry.to_numpy()), _town_basis(cells), [], p.uncertainty_m)


def _union_of_districts(ctx: Context, p: UnionOfDistricts, members: list[str]) -> Drawn:
    return Drawn(shapely.union_all(ctx.district_geoms(list(p.districts))), "official", [], p.uncertainty_m)


def _disc_in_towns(ctx: Context, p: DiscInTowns, members: list[str]) -> Drawn:
    sub = ctx.towns.set_index("name").loc[members]
    if p.centre == "seat_mean":
        centre = shapely.Point(sub["seat_lon"].mean(), sub["seat_lat"].mean())
    else:
        centre = shapely.Point(*p.centre)
    radius = float(np.sqrt(p.stated_area_km2 * 1e6 / np.pi))
    disc = project_point(centre).buffer(radius, quad_segs=32)
    region = shapely.union_all(ctx.town_cells().loc[members, "geometry"].to_numpy())
    return Drawn(shapely.intersection(disc, region), "illustrative", [], p.uncertainty_m)


def _stated_area_around_places(ctx: Context, p: StatedAreaAroundPlaces, members: list[str]) -> Drawn:
    """Equal-radius discs around the places, clipped to the units; the radius found by bisection (±0.5 m)."""
    target = p.stated_area_km2 * 1e6
    places = [ctx.place(n) for n in p.places]
    centres = [project_point(q.point) for q in places]
    region = ctx.clip_region(p, members)

    def area(r: float) -> float:
        return shapely.intersection(shapely.union_all([c.buffer(r, quad_segs=32) for c in centres]), region).area

    lo, hi = 0.0, 1000.0
    while area(hi) < target:
        hi *= 2
        if hi > 2e5:
            raise GeometryError(f"cannot hold {target / 1e6:g} km² within its towns/districts")
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if area(mid) < target else (lo, mid)
        if hi - lo < 0.5:
            break
    geom = shapely.intersection(shapely.union_all([c.buffer(hi, quad_segs=32) for c in centres]), region)
    unc = max([p.uncertainty_m, hi] + [q.uncertainty_m for q in places])
    return Drawn(geom, "illustrative", [q.name for q in places], unc)


def _buffer_around_place(ctx: Context, p: BufferAroundPlace, members: list[str]) -> Drawn:
    place = ctx.place(p.place)
    disc = project_point(place.point).buffer(p.radius_m, quad_segs=32)
    geom = shapely.intersection(disc, ctx.clip_region(p, members))
    return Drawn(geom, "illustrative", [place.name], max(p.uncertainty_m, place.uncertainty_m))


def _line_through_places(ctx: Context, p: LineThroughPlaces, members: list[str]) -> Drawn:
    places = [ctx.place(n) for n in p.places]
    pts = [project_point(q.point) for q in places]
    pts = [q for i, q in enumerate(pts) if i == 0 or not q.equals(pts[i - 1])]
    if len(pts) < 2:
        raise GeometryError("needs at least two distinct places for a line")
    line = shapely.LineString(pts)
    geom = shapely.intersection(line.buffer(p.width_m / 2, quad_segs=16), ctx.clip_region(p, members))
    basis = weakest("schematic", *(q.geometry_basis for q in places))
    unc = max([p.uncertainty_m] + [q.uncertainty_m for q in places])
    return Drawn(geom, basis, list(p.places), unc, p.width_m)


def _along_shared_boundary(ctx: Context, p: AlongSharedBoundary, members: list[str]) -> Drawn:
    if len(members) != 2:
        raise GeometryError("needs exactly two towns for a shared boundary")
    cells = ctx.town_cells().loc[members]
    a, b = cells.geometry.to_numpy()
    shared = shapely.intersection(a.boundary, b.boundary)
    if shared.is_empty or shared.length == 0:
        raise GeometryError(f"names towns that share no boundary: {', '.join(members)}")
    geom = shapely.intersection(shared.buffer(p.width_m / 2, quad_segs=16), shapely.union(a, b))
    return Drawn(geom, _town_basis(cells), [], max(p.uncertainty_m, p.width_m / 2), p.width_m)


def _point_at_place(ctx: Context, p: PointAtPlace, members: list[str]) -> Drawn:
    place = ctx.place(p.place)
    unc = max(p.uncertainty_m, place.uncertainty_m)
    return Drawn(project_point(place.point), place.geometry_basis, [place.name], unc)


def _point(ctx: Context, p: PointLonLat, members: list[str]) -> Drawn:
    return Drawn(project_point(shapely.Point(p.lon, p.lat)), p.basis or "schematic", [], p.uncertainty_m)


def _point_in_units(ctx: Context, p: PointInUnits, members: list[str]) -> Drawn:
    """A stand-in point for the units whose uncertainty covers all of them (rounded up to 1000 m)."""
    region = ctx.clip_region(p, members)
    centre = region.centroid
    if not region.contains(centre):
        centre = region.representative_point()
    reach = float(np.max(shapely.distance(centre, shapely.points(shapely.get_coordinates(region.boundary)))))
    unc = max(p.uncertainty_m, float(np.ceil(reach / 1000.0) * 1000.0))
    return Drawn(centre, "illustrative", [], unc)


def _unplaced(ctx: Context, p: Unplaced, members: list[str]) -> Drawn:
    return Drawn(None, "illustrative", [], p.uncertainty_m)


# --------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class GeometryMethod:
    """One geometry method: its parameter model, its builder and the label features carry.

    Attributes:
        params: the pydantic model of the ``geometry`` mapping (its ``method`` is a one-value Literal).
        build: ``(Context, params, member towns) -> Drawn``; raises :class:`GeometryError`.
        label: the feature's ``geometry_method`` (English).
    """

    params: type[GeometryParams]
    build: Callable[[Context, Any, list[str]], Drawn]
    label: str

    @property
    def name(self) -> str:
        """The method's name (the value of ``geometry.method``)."""
        return str(get_args(self.params.model_fields["method"].annotation)[0])


def _registry(*methods: GeometryMethod) -> dict[str, GeometryMethod]:
    return {m.name: m for m in methods}


#: Every geometry method, by name, in the order the documentation lists them.
GEOMETRY_METHODS: dict[str, GeometryMethod] = _registry(
    GeometryMethod(UnionOfTowns, _union_of_towns, "union of towns"),
    GeometryMethod(UnionOfDistricts, _union_of_districts, "union of official district boundaries"),
    GeometryMethod(DiscInTowns, _disc_in_towns, "illustrative disc of the stated area within the named towns"),
    GeometryMethod(
        StatedAreaAroundPlaces,
        _stated_area_around_places,
        "illustrative area of the stated size around named places, within named units",
    ),
    GeometryMethod(
        BufferAroundPlace, _buffer_around_place, "illustrative disc of a stated radius around a named place"
    ),
    GeometryMethod(LineThroughPlaces, _line_through_places, "line through named places, buffered to a stated width"),
    GeometryMethod(
        AlongSharedBoundary, _along_shared_boundary, "band of a stated width along the boundary two named towns share"
    ),
    GeometryMethod(PointAtPlace, _point_at_place, "point at a named place (gazetteer)"),
    GeometryMethod(PointLonLat, _point, "point at a named place"),
    GeometryMethod(
        PointInUnits,
        _point_in_units,
        "point standing for a set of towns/districts or the city; the uncertainty covers them",
    ),
    GeometryMethod(Unplaced, _unplaced, "not placed"),
)
#: ``{method: label}`` (the ``geometry_method`` property of features).
METHOD_LABELS: dict[str, str] = {name: m.label for name, m in GEOMETRY_METHODS.items()}
