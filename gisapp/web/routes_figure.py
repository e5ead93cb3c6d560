"""``GET /api/figure?plan=<plan id>&bbox=W,S,E,N&size=A4|A3&format=pdf|png&lang=zh|en``: a
print-ready figure of a plan (thin over :mod:`gisapp.report.figures`); ``bbox`` defaults to the plan's
fitted extent. Errors are JSON 4xx through the app's InputError handler (404 unknown plan,
400 bad parameter, 424 no CJK font on the server).
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from gisapp.core.errors import InputError
from gisapp.report.figures import MEDIA_TYPES, make_figure
from gisapp.web.context import current_store

blueprint = Blueprint("figure", __name__)


@blueprint.get("/api/figure")
def figure() -> Response:
    """The figure as ``application/pdf`` or ``image/png`` (inline, with a download file name)."""
    plan = request.args.get("plan", "")
    if not plan:
        raise InputError("give the plan: /api/figure?plan=<plan id>", code="missing_plan")
    result = make_figure(
        plan,
        fmt=request.args.get("format", "pdf"),
        size=request.args.get("size", "A4"),
        lang=request.args.get("lang", "zh"),
        bbox=request.args.get("bbox"),
        store=current_store(),
    )
    resp = Response(result.data, mimetype=MEDIA_TYPES[result.format])
    safe = "".join(c for c in plan if c.isalnum() or c == "-")[:80]
    resp.headers["Content-Disposition"] = f'inline; filename="{safe}-{result.size}.{result.format}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
