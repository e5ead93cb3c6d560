"""The layer tree and the legend of the map page, built generically from the layer store.

Layers are grouped by plan (``meta.plan``; Chinese title from the features' ``plan_title``, else
from the table in ``../shared/plans/README.md``, else the file name) and, inside a plan, by structure
(``meta.structure``); layers without a plan go to 参考图层 (towns, other layers) and 底图边界 (base
boundaries). A new layer in the store appears in the tree with no code change.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely

from gisapp.core import paths
from gisapp.plans.structures import related_layers
from gisapp.report import map_styles as st
from gisapp.web.map_layers import DisplayLayer, StoreView
from gisapp.web.map_text import TEMPLATES

REFERENCE_GROUP = ("reference", "参考图层", "Reference layers")
#: Layers with more features than this start hidden (the user turns them on), so that a large layer
#: added to the store does not slow down the first view.
MAX_DEFAULT_VISIBLE_FEATURES = 5000
BASE_GROUP = ("base", "底图边界", "Base boundaries")


@functools.lru_cache(maxsize=4)
def _plans_readme_titles(readme: str) -> dict[str, str]:
    """``{file: document title}`` from the table of ``plans/README.md`` (empty if unreadable)."""
    try:
        text = open(readme, encoding="utf-8").read()  # noqa: SIM115 - tiny file
    except OSError:
        return {}
    out = {}
    for m in re.finditer(r"^\|\s*([\w.-]+\.txt)\s*\|\s*([^|]+?)\s*\|", text, flags=re.M):
        out[m.group(1)] = re.sub(r"\s*\([^)]*\)\s*$", "", m.group(2)).strip()
    return out


def plan_title(plan_file: str, layers: Iterable[DisplayLayer] = ()) -> str:
    """Return a plan's Chinese title.

    Args:
        plan_file: the plan's file name (e.g. ``zhongshan-services-2021-2025.txt``).
        layers: layers whose features may carry ``plan_title``.

    Returns:
        the first ``plan_title`` of a feature citing the plan; else the document named for the file in
        ``plans/README.md``; else the file name.
    """
    for layer in layers:
        for props in layer.props:
            if props.get("plan") in (plan_file, None) and props.get("plan_title"):
                return str(props["plan_title"])
    titles = _plans_readme_titles(str(paths.plans_dir() / "README.md"))
    return titles.get(plan_file, plan_file)


def plan_title_en(plan_file: str) -> str:
    """An English label for a plan file: ``zhongshan-services-2021-2025.txt`` → ``Zhongshan services plan 2021–2025``."""
    stem = plan_file.removesuffix(".txt")
    m = re.match(r"^(.*?)-?(\d{4})-(\d{4})$", stem)
    words = (m.group(1) if m else stem).replace("-", " ").strip()
    label = words[:1].upper() + words[1:]
    return f"{label} plan {m.group(2)}–{m.group(3)}" if m else f"{label} plan"


def layer_roles(layer: DisplayLayer) -> list[str]:
    """Role keys used by a layer's features, in :data:`~gisapp.report.map_styles.ROLES` order (``other`` last)."""
    if layer.meta.kind != "structure":
        return []
    present = {st.role_of(p) for p in layer.props}
    return [r for r in [*st.ROLES, "other"] if r in present]


def layer_entry(layer: DisplayLayer) -> dict[str, Any]:
    """What the page needs to know of one layer (no feature data).

    Returns:
        ``{"id", "title", "title_en", "kind", "basis", "plan", "structure", "pane", "z_index",
        "interactive", "count", "visible", "bounds", "roles", "feature_bases", "geometry_types", "swatch",
        "hatch"}``; ``feature_bases`` are the geometry bases of its features (:data:`~gisapp.report.map_styles.BASES` order);
        ``visible`` is whether the layer is shown when the page opens (every layer of at most
        :data:`MAX_DEFAULT_VISIBLE_FEATURES` features); ``swatch`` is the style of a typical feature.
    """
    meta = layer.meta
    spec = st.kind_spec(meta.kind)
    basis = meta.geometry_basis if meta.geometry_basis in st.BASES else "illustrative"
    roles = layer_roles(layer)
    role = st.control_key(meta) if meta.kind == "control_line" else (roles[0] if roles else "other")
    swatch = st.feature_style(meta.kind, basis, role, "swatch")
    title = meta.title
    if meta.kind == "control_line" and basis == "illustrative" and "示意" not in title:
        title += "（示意，非官方）"
    return {
        "id": meta.id,
        "title": title,
        "title_en": meta.title_en,
        "kind": meta.kind,
        "basis": basis,
        "plan": meta.plan,
        "structure": meta.structure,
        "pane": spec.pane,
        "z_index": spec.z_index,
        "interactive": spec.interactive,
        "count": len(layer.ids),
        "visible": len(layer.ids) <= MAX_DEFAULT_VISIBLE_FEATURES,
        "bounds": layer.bounds,
        "roles": roles,
        "feature_bases": [b for b in st.BASES if b in {st.basis_of(p, meta) for p in layer.props}],
        "geometry_types": sorted({g.geom_type for g in layer.geoms}),
        "swatch": {k: swatch.get(k) for k in ("color", "fillColor", "fillOpacity", "dashArray", "weight")},
        "hatch": next((c for c in swatch["className"].split() if c.startswith("gisapp-hatch-")), ""),
    }


def layer_tree(view: StoreView) -> list[dict[str, Any]]:
    """Group the drawn layers by plan and structure.

    Args:
        view: the store view.

    Returns:
        groups in display order: one per plan (``{"key": "plan:<file>", "zh", "en", "children":
        [{"key": "structure:<file>:<structure>", "zh", "en", "layers": [ids]}]}``), then
        :data:`REFERENCE_GROUP` and :data:`BASE_GROUP` (each with one child); empty groups are left out.
    """
    layers = list(view.layers())
    plans: dict[str, dict[str, Any]] = {}
    reference: list[str] = []
    base: list[str] = []
    for layer in layers:
        meta = layer.meta
        if meta.kind == "base":
            base.append(meta.id)
        elif meta.plan:
            group = plans.setdefault(
                meta.plan,
                {
                    "key": f"plan:{meta.plan}",
                    "zh": plan_title(meta.plan, [x for x in layers if x.meta.plan == meta.plan]),
                    "en": plan_title_en(meta.plan),
                    "children": [],
                },
            )
            skey = f"structure:{meta.plan}:{meta.structure or meta.id}"
            child = next((c for c in group["children"] if c["key"] == skey), None)
            if child is None:
                child = {
                    "key": skey,
                    "zh": meta.structure or meta.title,
                    "en": _structure_en(layer),
                    "layers": [],
                }
                group["children"].append(child)
            child["layers"].append(meta.id)
        else:
            reference.append(meta.id)
    out = sorted(plans.values(), key=lambda g: g["zh"])
    for (key, zh, en), ids in ((REFERENCE_GROUP, reference), (BASE_GROUP, base)):
        if ids:
            out.append({"key": key, "zh": zh, "en": en, "children": [{"key": key, "zh": zh, "en": en, "layers": ids}]})
    return out


def _structure_en(layer: DisplayLayer) -> str:
    for props in layer.props:
        if props.get("structure_en"):
            return str(props["structure_en"])
    return re.sub(r"\s*\([^)]*\.txt\)\s*$", "", layer.meta.title_en) or layer.meta.id


def legend_html(view: StoreView) -> str:
    """Render the legend (``templates/map/legend.html``), escaped.

    Args:
        view: the store view; roles are shown only when a structure feature uses them.

    Returns:
        HTML of ``<div id="gisapp-legend">``: the role groups (核/心 core, 轴/廊/带 axis/corridor/belt,
        区 zone, 点/节点/平台 node/platform) with the colour of each role present, the three geometry
        bases (official solid, schematic dashed, illustrative dotted and hatched) and one entry per
        layer that is not a structure; an illustrative control line reads e.g.
        "工业用地保护红线（示意，非官方） / illustrative, not official".
    """
    layers = list(view.layers())
    present = {r for layer in layers for r in layer_roles(layer)}
    groups = []
    for key, zh, en, members in st.ROLE_GROUPS:
        roles = [{"key": r, "colour": st.ROLES[r][0], "zh": st.ROLES[r][1], "en": st.ROLES[r][2]} for r in members]
        groups.append({"key": key, "zh": zh, "en": en, "roles": roles, "present": any(r in present for r in members)})
    if "other" in present:
        groups.append(
            {
                "key": "other",
                "zh": st.OTHER_ROLE[1],
                "en": st.OTHER_ROLE[2],
                "roles": [{"key": "other", "colour": st.OTHER_ROLE[0], "zh": st.OTHER_ROLE[1], "en": st.OTHER_ROLE[2]}],
                "present": True,
            }
        )
    bases = []
    for key, (zh, en, dash) in st.BASES.items():
        illustrative = key == "illustrative"
        bases.append(
            {
                "key": key,
                "zh": zh,
                "en": en,
                "dash": dash,
                "hatch": "gisapp-hatch-neutral" if illustrative else None,
                "fill_opacity": 0.8 if illustrative else 0.12,
            }
        )
    others = []
    for layer in layers:
        entry = layer_entry(layer)
        if entry["kind"] == "structure":
            continue
        en = entry["title_en"]
        if entry["kind"] == "control_line" and entry["basis"] == "illustrative":
            en = "illustrative, not official"
        sw = entry["swatch"]
        others.append(
            {
                "id": entry["id"],
                "zh": entry["title"],
                "en": en,
                "colour": sw["color"],
                "dash": sw["dashArray"],
                "hatch": entry["hatch"] or None,
                "fill_opacity": sw["fillOpacity"] or 0.0,
                "width": min(sw["weight"] or 1.2, 2.5),
            }
        )
    return TEMPLATES.get_template("map/legend.html").render(
        groups=groups, bases=bases, others=others, neutral=st.NEUTRAL_COLOUR
    )


def defs_html() -> str:
    """Render the SVG hatch patterns and their CSS classes (``templates/map/defs.html``).

    Returns:
        HTML: a zero-size ``<svg>`` with one ``<pattern id="gisapp-hatch-<key>">`` per entry of
        :data:`~gisapp.report.map_styles.HATCHES` and a ``<style>`` block with
        ``path.gisapp-hatch-<key> { fill: url(#…) }``.
    """
    return TEMPLATES.get_template("map/defs.html").render(hatches=st.HATCHES)


# --------------------------------------------------------------------------- plan views (专题图)

#: The plan view the page opens with (``/``): 中山服务业 "双核支撑、多区联动".
DEFAULT_PLAN = "zhongshan-services-2021-2025"


def plan_id(plan_file: str) -> str:
    """A plan's id: its file name without ``.txt`` (``zhongshan-services-2021-2025``)."""
    return plan_file.removesuffix(".txt")


def _split_names(value: Any) -> list[str]:
    """``"小榄镇、东凤镇"`` → ``["小榄镇", "东凤镇"]`` (also ``,``/``，``/``;`` separated; blanks dropped)."""
    if not isinstance(value, str):
        return []
    return [p.strip() for p in re.split(r"[、,，;；]", value) if p.strip()]


def _by_name(layer: DisplayLayer | None) -> dict[str, str]:
    """``{name: display id}`` of a layer's features (also the name without its last character, 区/镇/市)."""
    out: dict[str, str] = {}
    if layer is None:
        return out
    for fid, props in zip(layer.ids, layer.props, strict=True):
        name = str(props.get("name") or "")
        if name:
            out.setdefault(name, fid)
            out.setdefault(name[:-1], fid)
    return out


def _plan_city(layers: list[DisplayLayer], cities: DisplayLayer | None) -> int | None:
    """Row in ``cities`` (``base-city``) holding most representative points of the plan's features."""
    if cities is None or not len(cities.geoms):
        return None
    counts = np.zeros(len(cities.geoms), dtype=int)
    for layer in layers:
        if not len(layer.geoms):
            continue
        pts = shapely.point_on_surface(layer.geoms)
        for i, city in enumerate(cities.geoms):
            counts[i] += int(shapely.contains(city, pts).sum())
    return int(counts.argmax()) if counts.max() > 0 else None


def _standin_unit(
    props: dict[str, Any], towns: DisplayLayer | None, districts: DisplayLayer | None, city: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The unit a stand-in stands for: its ``member_towns``, else ``member_districts``, else its plan's city."""
    for kind, names, layer in (
        ("towns", _split_names(props.get("member_towns")), towns),
        ("districts", _split_names(props.get("member_districts")), districts),
    ):
        lookup = _by_name(layer)
        ids = [lookup[n] for n in names if n in lookup]
        if layer is not None and ids:
            return {"kind": kind, "names": names, "layer": layer.meta.id, "ids": ids}
    if city:
        return {"kind": "city", "names": [city["name"]], "layer": city["layer"], "ids": [city["id"]]}
    return None


def main_structure(layers: list[DisplayLayer]) -> str:
    """The structure name of a plan's main structure layer (the shortest ``meta.structure``)."""
    names = [lyr.meta.structure for lyr in layers if lyr.meta.kind == "structure" and lyr.meta.structure]
    return min(names, key=len) if names else ""


@functools.lru_cache(maxsize=16)
def structure_line(plan_file: str, structure: str) -> int | None:
    """1-based line of the plan text (``../shared/plans/<file>``) where the structure's name is written.

    The name is matched without punctuation and spaces, also across a line break; the table of
    contents (lines ending in a page number after a tab) is skipped.

    Returns:
        the line number, or None when the name is not in the text (or the text is not readable).
    """
    key = re.sub(r"[\W_]", "", structure)
    if not key:
        return None
    try:
        lines = (paths.plans_dir() / plan_file).read_text("utf-8").splitlines()
    except OSError:
        return None
    clean = [re.sub(r"[\W_]", "", ln) for ln in lines]
    for i, text in enumerate(clean):
        if re.search(r"\t\d+\s*$", lines[i]):
            continue
        nxt = next((c for c in clean[i + 1 : i + 4] if c), "")
        if key in text or (key in text + nxt and key not in nxt):
            return i + 1
    return None


def _line_text(plan_file: str, line: int | None) -> str:
    """The stripped text of one line of a plan (``""`` when unreadable or out of range)."""
    if not line:
        return ""
    try:
        lines = (paths.plans_dir() / plan_file).read_text("utf-8").splitlines()
    except OSError:
        return ""
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


#: A plan whose drawn features cover less than this share of its city's box is fitted to them instead.
FOCUS_SHARE = 0.25


def _focus_bounds(layers: list[DisplayLayer], city: list[float], stand_in_m: float) -> list[float]:
    """The box a plan view is fitted to: its city's, or (for a plan of a small part of the city, e.g. the
    Torch zone) the box of its drawn features (stand-ins left out) grown by a fifth on each side."""
    geoms = [
        g
        for lyr in layers
        for g, props in zip(lyr.geoms, lyr.props, strict=True)
        if not (
            g.geom_type == "Point"
            and isinstance(props.get("uncertainty_m"), (int, float))
            and props["uncertainty_m"] >= stand_in_m
        )
    ]
    if not geoms:
        return city
    w, s, e, n = (float(v) for v in shapely.total_bounds(np.asarray(geoms, dtype=object)))
    city_area = (city[2] - city[0]) * (city[3] - city[1])
    if city_area <= 0 or (e - w) * (n - s) >= FOCUS_SHARE * city_area:
        return city
    dx, dy = (e - w) * 0.2, (n - s) * 0.2
    return [w - dx, s - dy, e + dx, n + dy]


def plan_views(view: StoreView) -> list[dict[str, Any]]:
    """One thematic view (专题图) per plan of the store, the way the plan's own structure figure shows it.

    A plan's layers are the ``kind == "structure"`` layers whose ``meta.plan`` is the plan's file
    (plus its :func:`gisapp.plans.structures.related_layers`); its city is the ``base-prd-city`` (else ``base-city``) feature holding most of its
    features; its reference layers are the ``towns`` layers whose extent lies in that city (Zhongshan's
    镇街), drawn lightly under the structure (other cities: the base district boundaries).

    Args:
        view: the store view (``base-prd-city``/``base-city``, ``base-prd-district``/``base-district`` and
            the towns layer are optional).

    Returns:
        views in a stable order (:data:`DEFAULT_PLAN` first, then by title): ``{"id", "file", "zh", "en",
        "structure_zh", "structure_en", "layers" [ids], "reference" [ids], "city" {"name", "name_en",
        "layer", "id"} | None, "bounds" [W, S, E, N] (the city's, else the layers'; for a plan whose drawn
        features cover less than :data:`FOCUS_SHARE` of the city's box, their box grown by a fifth), "citation" {"file",
        "section", "line_from", "line_to"}, "roles" [role keys present], "bases" [bases present],
        "standins" [{"layer", "id", "name", "name_en", "role", "uncertainty_m", "basis_note", "unit"
        {"kind": towns|districts|city, "names", "layer", "ids"}}]}``. A stand-in is a Point whose
        ``uncertainty_m`` is at least :data:`gisapp.plans.structures.STAND_IN_M` (5000 m).
    """
    from gisapp.plans.structures import STAND_IN_M

    layers = list(view.layers())
    by_id = {lyr.meta.id: lyr for lyr in layers}
    # the delta-wide layers when built (every PRD city and district), else the three plan cities'
    cities = by_id.get("base-prd-city") or by_id.get("base-city")
    districts = by_id.get("base-prd-district") or by_id.get("base-district")
    town_layers = [lyr for lyr in layers if lyr.meta.kind == "towns"]
    files: dict[str, list[DisplayLayer]] = {}
    for lyr in layers:
        if lyr.meta.kind == "structure" and lyr.meta.plan:
            files.setdefault(lyr.meta.plan, []).append(lyr)
    out = []
    for file, plan_layers in files.items():
        pid = plan_id(file)
        plan_layers = plan_layers + [by_id[x] for x in related_layers([lyr.meta for lyr in plan_layers]) if x in by_id]
        row = _plan_city(plan_layers, cities)
        city = None
        bounds = None
        if row is not None and cities is not None:
            cp = cities.props[row]
            city = {
                "name": str(cp.get("name") or ""),
                "name_en": str(cp.get("name_en") or ""),
                "layer": cities.meta.id,
                "id": cities.ids[row],
            }
            bounds = cities.feature_bounds(row)
        if bounds is None:
            b = np.array([lyr.bounds for lyr in plan_layers if lyr.bounds])
            bounds = [float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())]
        reference = []
        towns = None
        for tl in town_layers:
            if row is not None and tl.bounds and cities is not None:
                centre = shapely.Point((tl.bounds[0] + tl.bounds[2]) / 2, (tl.bounds[1] + tl.bounds[3]) / 2)
                if cities.geoms[row].contains(centre):
                    reference.append(tl.meta.id)
                    towns = towns or tl
        lines: list[tuple[int, str]] = []
        core_lines: list[int] = []
        roles: set[str] = set()
        bases: set[str] = set()
        standins = []
        for lyr in plan_layers:
            roles.update(layer_roles(lyr))
            for fid, props, geom in zip(lyr.ids, lyr.props, lyr.geoms, strict=True):
                bases.add(st.basis_of(props, lyr.meta))
                line = props.get("plan_line")
                if isinstance(line, (int, float)) and line == line:
                    lines.append((int(line), str(props.get("section") or "")))
                    if st.role_of(props) == "core":
                        core_lines.append(int(line))
                unc = props.get("uncertainty_m")
                if geom.geom_type == "Point" and isinstance(unc, (int, float)) and unc >= STAND_IN_M:
                    standins.append(
                        {
                            "layer": lyr.meta.id,
                            "id": fid,
                            "name": str(props.get("name") or fid),
                            "name_en": str(props.get("name_en") or ""),
                            "role": st.role_of(props),
                            "uncertainty_m": float(unc),
                            "basis_note": str(props.get("basis_note") or ""),
                            "unit": _standin_unit(props, towns, districts, city),
                        }
                    )
        lines.sort()
        bounds = _focus_bounds(plan_layers, bounds, STAND_IN_M)
        cores = sorted(ln for ln in core_lines)
        anchor = structure_line(file, main_structure(plan_layers)) or (cores[0] if cores else None)
        after = [x for x in lines if anchor is None or x[0] >= anchor] or lines
        structures = [lyr for lyr in plan_layers if lyr.meta.kind == "structure"]
        main = min(structures, key=lambda lyr: len(lyr.meta.structure or "~" * 99))
        section = after[0][1] if after else ""
        heading = _line_text(file, anchor)
        if heading and len(heading) <= 40 and not re.search(r"[，,。ꎬ；;]", heading):
            section = heading
        out.append(
            {
                "id": pid,
                "file": file,
                "zh": plan_title(file, plan_layers),
                "en": plan_title_en(file),
                "structure_zh": main.meta.structure or main.meta.title,
                "structure_en": _structure_en(main),
                "layers": [lyr.meta.id for lyr in plan_layers],
                "reference": reference,
                "city": city,
                "bounds": [round(float(v), 6) for v in bounds],
                "citation": {
                    "file": file,
                    "section": section,
                    "line_from": anchor if anchor is not None else (lines[0][0] if lines else None),
                    "line_to": lines[-1][0] if lines else None,
                },
                "roles": [r for r in [*st.ROLES, "other"] if r in roles],
                "bases": [b for b in st.BASES if b in bases],
                "standins": sorted(standins, key=lambda s: (s["layer"], s["name"])),
            }
        )
    out.sort(key=lambda v: (v["id"] != DEFAULT_PLAN, v["zh"]))
    return out
