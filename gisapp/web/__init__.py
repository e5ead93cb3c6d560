"""The web layer: a Flask app over :mod:`gisapp.service` (JSON API) and the map page.

Every error reaches the client as JSON with a 4xx status (``{"error": code, "message": …}``)
for API routes; nothing leaks a traceback.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from gisapp import paths
from gisapp.errors import InputError
from gisapp.jsontext import parse_json

log = logging.getLogger(__name__)

DEFAULT_MAX_UPLOAD_MB = 20
#: Analyses (POST requests) that run at once per process, and how long one waits for a slot (s).
DEFAULT_MAX_ANALYSES = 3
DEFAULT_ANALYSIS_WAIT_S = 30.0


class _BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, but request bodies are parsed by :func:`gisapp.jsontext.parse_json`
    (a nesting bound, and every failure an :class:`InputError` → 400 JSON)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse a request body (``request.get_json``)."""
        return parse_json(s)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create the Flask app.

    Args:
        config: overrides, e.g. ``{"MAX_CONTENT_LENGTH": 1024}``, ``{"GISAPP_TILES": "osm"}``.
            From the environment: ``GISAPP_MAX_UPLOAD_MB`` (upload limit, default 20 MB),
            ``GISAPP_BASE_URL`` (the URL every link is built from; default: the request's host),
            ``GISAPP_MAX_ANALYSES`` (analyses at once per process, default 3),
            ``GISAPP_ANALYSIS_WAIT_S`` (wait for a slot before 503, default 30 s) and
            ``GISAPP_ISOLATE_READS`` (read GDAL-backed uploads in a limited child process, default 1).

    Returns:
        the app, with the API blueprint under ``/api`` and the map at ``/``.

    Raises:
        InputError: ``invalid_setting`` for a malformed ``GISAPP_BASE_URL``.
    """
    app = Flask(
        "gisapp",
        static_folder=str(paths.static_dir()),
        static_url_path="/static",
        template_folder=str(paths.templates_dir()),
    )
    app.json_provider_class = _BoundedJSONProvider
    app.json = _BoundedJSONProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = int(os.environ.get("GISAPP_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB)) * 1024 * 1024
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.config["GISAPP_TILES"] = os.environ.get("GISAPP_TILES", "none")
    app.config["GISAPP_BASE_URL"] = os.environ.get("GISAPP_BASE_URL", "")
    app.config["GISAPP_MAX_ANALYSES"] = int(os.environ.get("GISAPP_MAX_ANALYSES", DEFAULT_MAX_ANALYSES))
    app.config["GISAPP_ANALYSIS_WAIT_S"] = float(os.environ.get("GISAPP_ANALYSIS_WAIT_S", DEFAULT_ANALYSIS_WAIT_S))
    app.config["GISAPP_ISOLATE_READS"] = os.environ.get("GISAPP_ISOLATE_READS", "1").lower() not in ("0", "false", "no")
    if config:
        app.config.update(config)
    _install_guards(app)
    _temporary_store(app)  # H3 branch only: superseded by the lead's create_app (app.extensions[STORE_KEY])

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
        response = jsonify(exc.to_dict())
        if exc.status == 503:
            response.headers["Retry-After"] = "5"
        return response, exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        if exc.code == 413:
            limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
            body = {"error": "too_large", "message": f"upload larger than the {limit} MB limit"}
            return jsonify(body), 413
        code = (exc.name or "error").lower().replace(" ", "_")
        return jsonify({"error": code, "message": exc.description}), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        if isinstance(exc, RecursionError | MemoryError):
            log.warning("input too complex on %s: %s", request.path, type(exc).__name__)
            body = {"error": "too_complex", "message": "the input is too complex (nesting or size) to process"}
            return jsonify(body), 422
        log.exception("unexpected error on %s", request.path)
        return jsonify({"error": "internal_error", "message": "unexpected server error; it has been logged"}), 500

    return app


def _temporary_store(app: Flask) -> None:
    """TEMPORARY (branch h3-registries only; drop at merge): a store for current_store(), following
    ``GISAPP_LAYERS_DIR`` per request as the routes of this branch's base still do."""
    from gisapp.layerstore import LayerStore
    from gisapp.web.context import STORE_KEY

    @app.before_request
    def _store() -> None:
        directory = paths.layers_dir().resolve()
        current = app.extensions.get(STORE_KEY)
        if current is None or current.directory != directory:
            app.extensions[STORE_KEY] = LayerStore(directory)


def _install_guards(app: Flask) -> None:
    """Security headers, the chunked-body limit, the fixed base URL and the analysis gate (see
    :mod:`gisapp.web.security` and :mod:`gisapp.web.admission`)."""
    from gisapp import gdalpolicy
    from gisapp.limits import DEFAULT_LIMITS
    from gisapp.web.admission import AnalysisGate
    from gisapp.web.security import BodyLimit, FixedBaseUrl, add_security_headers

    gdalpolicy.apply()
    app.extensions["gisapp.limits"] = DEFAULT_LIMITS.with_(isolate=bool(app.config["GISAPP_ISOLATE_READS"]))
    app.after_request(add_security_headers)
    inner = app.wsgi_app
    if app.config.get("GISAPP_BASE_URL"):
        inner = FixedBaseUrl(inner, app.config["GISAPP_BASE_URL"])  # type: ignore[assignment]
    app.wsgi_app = BodyLimit(inner, lambda: int(app.config["MAX_CONTENT_LENGTH"]))  # type: ignore[method-assign]
    gate = AnalysisGate(max(1, int(app.config["GISAPP_MAX_ANALYSES"])), float(app.config["GISAPP_ANALYSIS_WAIT_S"]))
    app.extensions["gisapp.analysis_gate"] = gate

    @app.before_request
    def _admit() -> None:
        if request.method == "POST":
            gate.enter()
            g.gisapp_analysis_slot = True

    @app.teardown_request
    def _release(_exc: BaseException | None) -> None:
        if g.pop("gisapp_analysis_slot", False):
            gate.leave()
