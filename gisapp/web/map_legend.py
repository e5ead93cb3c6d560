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

from gisapp import paths
from gisapp.web import map_styles as st
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
    """Role keys used by a layer's features, in :data:`~gisapp.web.map_styles.ROLES` order (``other`` last)."""
    if layer.meta.kind != "structure":
        return []
    present = {st.role_of(p) for p in layer.props}
    return [r for r in [*st.ROLES, "other"] if r in present]


def layer_entry(layer: DisplayLayer) -> dict[str, Any]:
    """What the page needs to know of one layer (no feature data).

    Returns:
        ``{"id", "title", "title_en", "kind", "basis", "plan", "structure", "pane", "z_index",
        "interactive", "count", "visible", "bounds", "roles", "geometry_types", "swatch", "hatch"}``;
        ``visible`` is whether the layer is shown when the page opens (every layer of at most
        :data:`MAX_DEFAULT_VISIBLE_FEATURES` features); ``swatch`` is the style of a typical feature.
    """
    meta = layer.meta
    spec = st.kind_spec(meta.kind)
    basis = meta.geometry_basis if meta.geometry_basis in st.BASES else "illustrative"
    roles = layer_roles(layer)
    swatch = st.feature_style(meta.kind, basis, roles[0] if roles else "other", "swatch")
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
        :data:`~gisapp.web.map_styles.HATCHES` and a ``<style>`` block with
        ``path.gisapp-hatch-<key> { fill: url(#…) }``.
    """
    return TEMPLATES.get_template("map/defs.html").render(hatches=st.HATCHES)
