"""The web layer: a Flask app over :mod:`gisapp.service` (JSON API) and the map page.

Every error reaches the client as JSON with a 4xx status (``{"error": code, "message": …}``)
for API routes; nothing leaks a traceback.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from gisapp import paths
from gisapp.errors import InputError

log = logging.getLogger(__name__)

DEFAULT_MAX_UPLOAD_MB = 20


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create the Flask app.

    Args:
        config: overrides, e.g. ``{"MAX_CONTENT_LENGTH": 1024}``, ``{"GISAPP_TILES": "osm"}``.
            ``GISAPP_MAX_UPLOAD_MB`` (environment) sets the upload limit (default 20 MB).

    Returns:
        the app, with the API blueprint under ``/api`` and the map at ``/``.
    """
    app = Flask(
        "gisapp",
        static_folder=str(paths.static_dir()),
        static_url_path="/static",
        template_folder=str(paths.templates_dir()),
    )
    app.config["MAX_CONTENT_LENGTH"] = int(os.environ.get("GISAPP_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB)) * 1024 * 1024
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.config["GISAPP_TILES"] = os.environ.get("GISAPP_TILES", "none")
    if config:
        app.config.update(config)

    from gisapp.web.api import api
    from gisapp.web.mapview import mapview

    app.register_blueprint(api, url_prefix="/api")
    app.register_blueprint(mapview)
    from gisapp.extensions import extension_modules

    for module in extension_modules("routes_", "gisapp.web"):
        app.register_blueprint(module.blueprint, url_prefix=getattr(module, "URL_PREFIX", None))

    @app.get("/favicon.ico")
    def _favicon():  # type: ignore[no-untyped-def]
        """The site icon (an SVG; browsers ask for /favicon.ico whatever the page says)."""
        return app.send_static_file("favicon.svg")

    @app.errorhandler(InputError)
    def _input_error(exc: InputError):  # type: ignore[no-untyped-def]
        return jsonify(exc.to_dict()), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        if exc.code == 413:
            limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
            body = {"error": "too_large", "message": f"upload larger than the {limit} MB limit"}
            return jsonify(body), 413
        if request.path.startswith("/api/"):
            return jsonify(
                {"error": (exc.name or "error").lower().replace(" ", "_"), "message": exc.description}
            ), exc.code
        return exc

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unexpected error on %s", request.path)
        return jsonify({"error": "internal_error", "message": "unexpected server error; it has been logged"}), 500

    return app
