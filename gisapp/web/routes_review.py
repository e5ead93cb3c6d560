"""The review page of a drafted zone file (issue 17): ``/plans/review?file=NAME.yaml``.

* ``GET /plans/review?file=…`` — the page (templates/review.html, static/review.js): the plan text
  beside a map of the drafted elements; accept, edit or reject each, then save.
* ``GET /api/plans/review?file=…`` — the file, its plan text lines and a preview of every element (JSON).
* ``POST /api/plans/review?file=…`` — save decisions: ``{"elements": [{"id", "status", "name"?, "role"?,
  "geometry"?}]}`` as ``application/json`` only (a cross-site form cannot send it without a CORS preflight,
  which this app never grants) and, when the browser sends ``Origin``, only from this app's own origin.

The file is confined to the zones folder (``GISAPP_ZONES_DIR``); a name with a folder or ``..`` is a 400
JSON error. Errors are the app's InputError JSON (4xx).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from gisapp.core.errors import InputError
from gisapp.plans.draft.review import apply_review, plan_lines, preview_features, status_counts, zone_file
from gisapp.web.context import current_settings

blueprint = Blueprint("review", __name__)


def _file() -> Any:
    return zone_file(current_settings().zones_dir, request.args.get("file", ""))


@blueprint.get("/plans/review")
def review_page() -> str:
    """The review page (HTML); the data comes from ``/api/plans/review``."""
    path = _file()
    return render_template("review.html", file=path.name)


@blueprint.get("/api/plans/review")
def review_data() -> Response:
    """``{"file", "definition", "lines", "features", "counts"}`` of a zone file under review."""
    from gisapp.plans.draft.review import _load

    settings = current_settings()
    path = _file()
    data = _load(path)
    lines = plan_lines(data, [settings.plans_dir, settings.zones_dir])
    body = {
        "file": path.name,
        "definition": data,
        "lines": lines,
        "features": preview_features(data, settings.layers_dir),
        "counts": status_counts(data),
    }
    resp = jsonify(body)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@blueprint.post("/api/plans/review")
def review_save() -> Response:
    """Save the reviewer's decisions; answer ``{"file", "counts", "publishable"}``."""
    if request.mimetype != "application/json":
        raise InputError("send the decisions as application/json", code="unsupported_media_type", status=415)
    # a cross-origin POST never gets here (web/accounts.py refuses it for every write)
    path = _file()
    return jsonify(apply_review(path, request.get_json(silent=True)))
