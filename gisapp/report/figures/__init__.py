"""Print-ready figures of a plan's spatial structure (出图, issue 12 §6).

``make_figure(plan_id, fmt="pdf"|"png", size="A4"|"A3", lang="zh"|"en", bbox=None)`` returns a
:class:`~gisapp.report.figures.render.FigureResult`: a one-page landscape figure with title, the plan's
structure drawn with the map's role colours and basis line styles, collision-free labels, a
light base (water, city/district/town boundaries and names where the store has them), legend,
scale bar (EPSG:4547), north arrow, 未定位要素 box, source/basis notes, plan citation and date.
Used by ``gisapp figure`` (:mod:`gisapp.cli.figure`) and ``GET /api/figure``
(:mod:`gisapp.web.routes_figure`). Modules: :mod:`.plandata` (what is drawn), :mod:`.render`
(matplotlib), :mod:`.labels` (placement), :mod:`.symbols` (the map's styles), :mod:`.fonts`.
"""

from __future__ import annotations

import datetime as dt

from pyproj import Transformer

from gisapp.core import bbox as core_bbox
from gisapp.core.errors import InputError
from gisapp.report.figures.plandata import PROJECTED, load_plan, plan_ids
from gisapp.report.figures.render import PAGES, FigureResult
from gisapp.store.layerstore import LayerStore

FORMATS = ("pdf", "png")
LANGS = ("zh", "en")
MEDIA_TYPES = {"pdf": "application/pdf", "png": "image/png"}


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """Parse ``W,S,E,N`` (WGS 84 degrees) and return it in EPSG:4547 metres, or None if empty.

    Raises:
        InputError: ``invalid_bbox`` unless there are four finite numbers with W < E, S < N, inside
            lon −180…180 / lat −90…90, no larger than 20° and no smaller than 0.001° a side.
    """
    box = core_bbox.parse_bbox(text, lonlat=True, strict=True, side_deg=(0.001, 20))
    if box is None:
        return None
    w, s, e, n = box
    tr = Transformer.from_crs("EPSG:4326", PROJECTED, always_xy=True)
    xs, ys = tr.transform([w, e, w, e], [s, s, n, n])
    return min(xs), min(ys), max(xs), max(ys)


def check_choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    """Return ``value`` normalised (A4/A3 upper case, others lower) if allowed.

    Raises:
        InputError: ``invalid_<what>`` listing the allowed values.
    """
    norm = value.strip().upper() if what == "size" else value.strip().lower()
    if norm not in allowed:
        raise InputError(f"{what} must be one of {', '.join(allowed)}, not {value[:20]!r}", code=f"invalid_{what}")
    return norm


def make_figure(
    plan_id: str,
    fmt: str = "pdf",
    size: str = "A4",
    lang: str = "zh",
    bbox: str | None = None,
    date: dt.date | None = None,
    *,
    store: LayerStore,
) -> FigureResult:
    """Render the figure of a plan (see the module docstring).

    Args:
        plan_id: ``meta.plan`` without ``.txt``; fmt: ``pdf``/``png``; size: ``A4``/``A3``;
        lang: ``zh``/``en``; bbox: ``W,S,E,N`` in WGS 84 degrees (default the plan's fitted
        extent); date: printed date (default today); store: the layer store.

    Raises:
        InputError: ``unknown_plan`` (404), ``invalid_bbox``/``invalid_size``/``invalid_format``/
            ``invalid_lang`` (400), ``no_cjk_font`` (424).
    """
    from gisapp.report.figures.render import render

    fmt = check_choice(fmt, FORMATS, "format")
    size = check_choice(size, tuple(PAGES), "size")
    lang = check_choice(lang, LANGS, "lang")
    box = parse_bbox(bbox)
    plan = load_plan(plan_id, store)
    return render(plan, fmt=fmt, size=size, lang=lang, bbox_4547=box, date=date)


__all__ = ["FORMATS", "LANGS", "MEDIA_TYPES", "FigureResult", "make_figure", "parse_bbox", "plan_ids"]
