"""The web layer: a Flask app over :mod:`gisapp.analysis.service` (JSON API) and the map page.

Every error reaches the client as JSON with a 4xx status (``{"error": code, "message": …}``)
for API routes; nothing leaks a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from gisapp.core import paths
from gisapp.core.errors import InputError
from gisapp.core.jsontext import parse_json
from gisapp.core.settings import SETTINGS, Settings
from gisapp.store.backends import open_backend
from gisapp.store.layerstore import LayerStore
from gisapp.web.context import SETTINGS_KEY, STORE_KEY

log = logging.getLogger(__name__)

SETTING_NAMES = frozenset(s.name for s in SETTINGS)


class _BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, but request bodies are parsed by :func:`gisapp.core.jsontext.parse_json`
    (a nesting bound, and every failure an :class:`InputError` → 400 JSON)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse a request body (``request.get_json``)."""
        return parse_json(s)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create the Flask app.

    Args:
        config: overrides by setting name (:data:`gisapp.core.settings.SETTINGS`, e.g.
            ``{"GISAPP_LAYERS_DIR": "/srv/store", "GISAPP_TILES": "osm"}``) or Flask keys
            (``{"MAX_CONTENT_LENGTH": 1024}``). A setting not given comes from the environment
            variable of the same name, then its default (``docs/settings.md``). The app owns one
            :class:`~gisapp.store.layerstore.LayerStore` on ``GISAPP_LAYERS_DIR``; every route, the map
            and the OGC API read through it (:func:`gisapp.web.context.current_store`).

    Returns:
        the app, with the API blueprint under ``/api`` and the map at ``/``.

    Raises:
        InputError: ``invalid_setting`` for a malformed setting (e.g. ``GISAPP_BASE_URL``).
    """
    app = Flask(
        "gisapp",
        static_folder=str(paths.static_dir()),
        static_url_path="/static",
        template_folder=str(paths.templates_dir()),
    )
    app.json_provider_class = _BoundedJSONProvider
    app.json = _BoundedJSONProvider(app)
    settings = Settings.load(config)  # the app's settings live in app.extensions, not copied into app.config
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_mb * 1024 * 1024
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False
    if config:
        app.config.update({k: v for k, v in config.items() if k not in SETTING_NAMES})  # settings: parsed above
    app.extensions[SETTINGS_KEY] = settings
    app.extensions[STORE_KEY] = LayerStore(
        settings.layers_dir, open_backend(settings.layers_dir, settings.database_url or None)
    )
    from gisapp.web.accounts import install_accounts

    install_accounts(app)  # logins, roles, limits and the audit trail (one policy; single-user without accounts)
    _install_guards(app)

    from gisapp.web.api import api
    from gisapp.web.mapview import mapview

    app.register_blueprint(api, url_prefix="/api")
    app.register_blueprint(mapview)
    from gisapp.core.extensions import extension_modules

    for module in extension_modules("routes_", "gisapp.web"):
        app.register_blueprint(module.blueprint, url_prefix=getattr(module, "URL_PREFIX", None))

    @app.get("/favicon.ico")
    def _favicon():
        """The site icon (an SVG; browsers ask for /favicon.ico whatever the page says)."""
        return app.send_static_file("favicon.svg")

    @app.errorhandler(InputError)
    def _input_error(exc: InputError):
        response = jsonify(exc.to_dict())
        if exc.status == 503:
            response.headers["Retry-After"] = "5"
        return response, exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code == 413:
            limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
            body = {"error": "too_large", "message": f"upload larger than the {limit} MB limit"}
            return jsonify(body), 413
        code = (exc.name or "error").lower().replace(" ", "_")
        return jsonify({"error": code, "message": exc.description}), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, RecursionError | MemoryError):
            log.warning("input too complex on %s: %s", request.path, type(exc).__name__)
            body = {"error": "too_complex", "message": "the input is too complex (nesting or size) to process"}
            return jsonify(body), 422
        log.exception("unexpected error on %s", request.path)
        return jsonify({"error": "internal_error", "message": "unexpected server error; it has been logged"}), 500

    return app


def _install_guards(app: Flask) -> None:
    """Security headers, the chunked-body limit, the fixed base URL and the analysis gate (see
    :mod:`gisapp.web.security` and :mod:`gisapp.web.admission`)."""
    from gisapp.core.limits import DEFAULT_LIMITS
    from gisapp.io import gdalpolicy
    from gisapp.web.admission import AnalysisGate
    from gisapp.web.security import BodyLimit, FixedBaseUrl, add_security_headers

    settings: Settings = app.extensions[SETTINGS_KEY]
    gdalpolicy.apply()
    app.extensions["gisapp.core.limits"] = DEFAULT_LIMITS.with_(isolate=settings.isolate_reads)
    app.after_request(add_security_headers)
    inner = app.wsgi_app
    if settings.base_url:
        inner = FixedBaseUrl(inner, settings.base_url)
    app.wsgi_app = BodyLimit(inner, lambda: int(app.config["MAX_CONTENT_LENGTH"]))  # type: ignore[method-assign]  # Flask's documented way to add WSGI middleware
    gate = AnalysisGate(max(1, settings.max_analyses), settings.analysis_wait_s)
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
