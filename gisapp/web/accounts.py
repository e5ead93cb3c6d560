"""Logins, roles, layer restrictions, per-user limits and the audit trail of the web app — in ONE place.

Installed by :func:`gisapp.web.create_app` (:func:`install_accounts`). Routes are not edited: the
policy is the table :data:`gisapp.web.policy.POLICY` (endpoint or ``blueprint.*`` → the minimum role
and the audit kind), applied by one ``before_request`` hook; one ``after_request`` hook writes the
audit record and filters layer lists (:mod:`gisapp.web.layerfilter`).

* **Single-user mode** — no accounts database (``GISAPP_ACCOUNTS_DB``, default
  ``<store>.accounts.sqlite``) or no account in it: every request is allowed as before. When
  the database exists, audited requests are still recorded (user ``-``).
* **Accounts mode** — at least one account (even disabled): every request but the login page, static files
  and ``/api/health`` needs a user: a browser session (Flask-Login; forms and ``fetch`` POSTs carry a
  Flask-WTF CSRF token) or an API token (``Authorization: Bearer <token>``, ``?token=<token>``, or
  HTTP Basic ``user:token`` / ``user:password`` for GDAL's ``GDAL_HTTP_USERPWD``). Without one an
  API path (``/api``, ``/ogc``) answers ``401`` JSON, a page redirects to ``/login``; a lower role
  gets ``403`` JSON; a restricted layer (``gisapp users restrict``) is left out of layer lists and
  searches and answers ``403`` when read.
* **Limits per user** — ``GISAPP_USER_RATE`` requests a minute and ``GISAPP_USER_ANALYSES``
  analyses at once (:class:`gisapp.web.admission.UserLimits`), else ``429`` JSON with ``Retry-After``.
* **Audit** — every request whose policy row names a kind (overlap, accounting, export, figure), every
  login, and every import / publish / rollback (the admin routes put their kind and summary on
  ``flask.g``) is appended to the hash-chained trail (:mod:`gisapp.accounts.audit`); the response
  carries ``X-Audit-Record``, and a report gets the same id and the layer versions through
  :func:`request_provenance`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import time
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from werkzeug.wrappers import Response as WerkzeugResponse

from gisapp.accounts.accountsdb import AccountsDB, User, database_url, new_record_id, sqlite_file
from gisapp.accounts.roles import Role
from gisapp.core.settings import Settings
from gisapp.web.admission import TooManyRequests, UserLimits
from gisapp.web.context import SETTINGS_KEY
from gisapp.web.layerfilter import filter_response
from gisapp.web.policy import layers_named, rule_for

log = logging.getLogger(__name__)

ACCESS_KEY = "gisapp.accounts"
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SessionUser(UserMixin):
    """The Flask-Login view of an :class:`~gisapp.accounts.accountsdb.User`."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.id = str(user.id)

    @property
    def is_active(self) -> bool:
        """False for a disabled account."""
        return self.user.active


class AccessControl:
    """What the app owns for accounts: the database, the cached mode and layer rules, the user limits.

    Args:
        settings: the app's settings (``GISAPP_ACCOUNTS_DB``, ``GISAPP_USER_RATE``, ``GISAPP_USER_ANALYSES``).
        ttl_s: how long the mode (accounts or single-user) and the layer rules are cached (seconds).
    """

    def __init__(self, settings: Settings, ttl_s: float = 2.0) -> None:
        self.url = database_url(settings.accounts_db, settings.layers_dir)
        self.ttl_s = ttl_s
        self.limits = UserLimits(settings.user_rate, settings.user_analyses)
        self._db = AccountsDB(self.url, create=False)
        self._file = sqlite_file(self.url)
        self._checked = 0.0
        self._enforced = False
        self._rules: dict[str, Role] = {}

    @property
    def db(self) -> AccountsDB:
        """The accounts database (reopened when its SQLite file appeared since the app started; while it is
        missing, a stat per access, not a new engine)."""
        if not self._db.exists and self._file is not None and self._file.exists():
            self._db = AccountsDB(self.url, create=False)
        return self._db

    def refresh(self) -> None:
        """Read the mode and the layer rules again (the cache is :attr:`ttl_s` long)."""
        db = self.db
        self._enforced = db.has_users()
        self._rules = db.layer_rules()
        self._checked = time.monotonic()

    def _fresh(self) -> None:
        if time.monotonic() - self._checked > self.ttl_s:
            self.refresh()

    @property
    def enforced(self) -> bool:
        """True when at least one account exists (logins required)."""
        self._fresh()
        return self._enforced

    @property
    def layer_rules(self) -> dict[str, Role]:
        """Layer id → minimum role (cached)."""
        self._fresh()
        return self._rules

    def may_see(self, layer_id: str, role: Role | None) -> bool:
        """True when ``role`` may list and read ``layer_id`` (always in single-user mode)."""
        need = self.layer_rules.get(layer_id)
        return need is None or role is None or role >= need


def access() -> AccessControl:
    """The :class:`AccessControl` of the current app."""
    return current_app.extensions[ACCESS_KEY]


def current_account() -> User | None:
    """The account of the current request (session or token), or None (anonymous / single-user mode)."""
    return g.get("gisapp_user")


def _error(status: int, code: str, message: str, **headers: str) -> Response:
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    response.headers.update(headers)
    return response


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/ogc")) or request.accept_mimetypes.best == "application/json"


def _token_from_request() -> tuple[str, str] | None:
    """``(kind, secret)`` from ``Authorization: Bearer``, ``?token=``, or HTTP Basic (``user:secret``)."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return "token", header[7:].strip()
    if header[:6].lower() == "basic ":
        try:
            name, _, secret = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return f"basic:{name}", secret
    token = request.args.get("token")
    return ("token", token) if token else None


def _resolve_user(control: AccessControl) -> tuple[User | None, str]:
    """The account of this request and how it was authenticated (``session``, ``token``, ``basic``, ``""``)."""
    found = _token_from_request()
    if found is not None:
        kind, secret = found
        if kind == "token":
            user = control.db.token_user(secret)
            return user, "token" if user else ""
        name = kind.removeprefix("basic:")
        user = control.db.token_user(secret)
        if user is None:  # a password: argon2id costs ~0.1 s and 64 MiB, so guesses are bounded per address first
            control.limits.hit(f"address:{request.remote_addr}")
            user = control.db.check_password(name, secret)
        return (user, "basic") if user is not None and user.name == name else (None, "")
    if current_user.is_authenticated:
        return current_user.user, "session"
    return None, ""


def layer_versions(control: AccessControl) -> dict[str, Any]:
    """The store version and the SHA-256 (first 16 hex digits) of every non-base layer, for the trail and reports."""
    from gisapp.store.storetxn import VersionedStore

    settings: Settings = current_app.extensions[SETTINGS_KEY]
    try:
        manifest = VersionedStore(settings.layers_dir).manifest()
    except Exception:  # an unreadable manifest must not block the analysis; the record says so
        log.warning("store manifest unreadable for the audit record", exc_info=True)
        return {"store_version": None}
    if manifest is None:
        return {"store_version": None}
    layers = {k: v["geojson"][:16] for k, v in sorted(manifest.layers.items()) if not k.startswith("base-")}
    return {"store_version": manifest.version, "store_time": manifest.time, "layers": layers}


def request_provenance() -> dict[str, Any] | None:
    """The audit record id and layer versions of the current audited request (for a report), else None."""
    return g.get("gisapp_provenance")


def set_audit(audit_kind: str, result: dict[str, Any] | None = None, **parameters: Any) -> None:
    """Ask the hook to audit this request as ``audit_kind`` (a route of its own, e.g. publish), with a result
    summary and ``parameters`` (merged into the record's parameters)."""
    g.gisapp_audit_kind = audit_kind
    g.gisapp_audit_result = result or {}
    g.gisapp_audit_parameters = parameters


def _summary(response: Response) -> dict[str, Any]:
    out: dict[str, Any] = {"status": response.status_code, "mimetype": response.mimetype}
    if response.direct_passthrough or response.is_streamed:
        return out
    body = response.get_data()
    out["bytes"] = len(body)
    if response.mimetype == "application/json" and len(body) < 5_000_000:
        try:
            doc = json.loads(body)
        except ValueError:
            return out
        if isinstance(doc, dict):
            for key in ("error", "message", "summary", "total", "status", "count"):
                value = doc.get(key)
                if isinstance(value, str | int | float | bool) or (isinstance(value, dict) and len(value) <= 30):
                    out[key] = value
            info = doc.get("info")
            if isinstance(info, dict) and isinstance(info.get("summary"), dict):
                out["summary"] = info["summary"]
    return out


def audit_now(control: AccessControl, kind: str, user: str, result: dict[str, Any], **parameters: Any) -> str | None:
    """Append one record outside the request hooks (e.g. a login); returns its id (None without a database)."""
    db = control.db
    if not db.exists:
        return None
    record = db.append_audit(
        user=user, address=request.remote_addr or "", kind=kind, parameters=parameters, result=result
    )
    return record.record_id


def _before(control: AccessControl, csrf: CSRFProtect) -> Response | WerkzeugResponse | None:
    rule = rule_for(request.endpoint, request.method)
    origin = request.headers.get("Origin")
    if request.method in _WRITE_METHODS and origin and origin.rstrip("/") != request.host_url.rstrip("/"):
        # another site's page posting to this server (also in single-user mode, where no login or CSRF
        # token stands in the way): refused before any route runs
        return _error(403, "forbidden_origin", "不接受跨站请求 — cross-origin requests are refused")
    enforced = control.enforced
    needs_user = rule.role is not None or request.endpoint == "auth.me"
    user, how = _resolve_user(control) if enforced and needs_user else (None, "")
    g.gisapp_user = user
    g.gisapp_auth = how
    if enforced and rule.role is not None:
        if user is None:
            if _wants_json():
                return _error(
                    401,
                    "unauthorized",
                    "请先登录或提供 API 令牌 — log in or send an API token (Authorization: Bearer …)",
                    **{"WWW-Authenticate": 'Bearer realm="gisapp"'},
                )
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if user.role < rule.role:
            return _error(
                403,
                "forbidden",
                f"需要「{rule.role.label}」权限（当前为「{user.role.label}」）— role {rule.role.key} required, "
                f"you have {user.role.key}",
            )
        hidden = [n for n in layers_named() if not control.may_see(n, user.role)] if control.layer_rules else []
        if hidden:
            need = control.layer_rules[hidden[0]]
            return _error(
                403,
                "forbidden_layer",
                f"图层 {hidden[0]} 需要「{need.label}」权限 — layer {hidden[0]} requires role {need.key}",
            )
        if how == "session" and request.method in _WRITE_METHODS:
            csrf.protect()
        control.limits.hit(user.name)
        if request.method in _WRITE_METHODS and rule.kind:
            control.limits.enter(user.name)
            g.gisapp_user_slot = user.name
    if (rule.kind or request.method in _WRITE_METHODS) and control.db.exists:
        # the body is cached, so the route (and the form parser) read the same bytes after us
        g.gisapp_input_sha256 = (
            hashlib.sha256(request.get_data(cache=True)).hexdigest() if request.content_length else ""
        )
    if rule.kind and control.db.exists:
        g.gisapp_audit_kind = rule.kind
        g.gisapp_audit_id = new_record_id()
        g.gisapp_provenance = {"audit_id": g.gisapp_audit_id, **layer_versions(control)}
    return None


def _parameters() -> dict[str, Any]:
    args = {k: v if len(v) > 1 else v[0] for k, v in request.args.lists() if k != "token"}
    out: dict[str, Any] = {"method": request.method, "path": request.path, "args": args}
    if request.view_args:
        out["view_args"] = {k: str(v) for k, v in request.view_args.items()}
    if request.files:
        out["files"] = [f.filename or "" for f in request.files.values()]
    return out


def _after(control: AccessControl, response: Response) -> Response:
    endpoint = request.endpoint or ""
    role = user.role if (user := current_account()) else None
    if control.layer_rules and (user is not None or control.enforced):
        hidden = [i for i in control.layer_rules if not control.may_see(i, role)]
        if hidden:
            filter_response(response, endpoint, lambda i: control.may_see(i, role), hidden)
    kind = g.get("gisapp_audit_kind")
    if kind and control.db.exists and response.status_code not in (401, 403, 429):
        result = _summary(response) | g.get("gisapp_audit_result", {})
        record = control.db.append_audit(
            user=user.name if user else "-",
            address=request.remote_addr or "",
            kind=kind,
            input_sha256=g.get("gisapp_input_sha256", ""),
            parameters=_parameters() | g.get("gisapp_audit_parameters", {}),
            layers={
                k: v for k, v in (g.get("gisapp_provenance") or layer_versions(control)).items() if k != "audit_id"
            },
            result=result,
            record_id=g.get("gisapp_audit_id"),
        )
        response.headers["X-Audit-Record"] = record.record_id
    if user is not None:  # what one account may see must not be served to another by a shared cache
        cc = response.headers.get("Cache-Control", "")
        response.headers["Cache-Control"] = cc.replace("public", "private") if cc else "private"
        response.vary.update(("Cookie", "Authorization"))
    if g.get("gisapp_auth") == "session" and response.mimetype == "text/html" and not response.is_streamed:
        _inject_session_script(response)
    return response


def _inject_session_script(response: Response) -> None:
    """Give a page of a logged-in user the CSRF token and ``/static/session.js`` (``fetch`` POSTs send the
    token; a badge shows the user and a logout button), without editing the page templates."""
    body = response.get_data(as_text=True)
    if "</head>" not in body or 'name="csrf-token"' in body:
        return
    user = current_account()
    tag = (
        f'<meta name="csrf-token" content="{generate_csrf()}">'
        f'<meta name="gisapp-user" content="{user.name if user else ""}" data-role="{user.role.label if user else ""}">'
        f'<script src="{url_for("static", filename="session.js")}" defer></script>'
    )
    response.set_data(body.replace("</head>", tag + "</head>", 1))


def install_accounts(app: Flask) -> AccessControl:
    """Install Flask-Login, Flask-WTF CSRF and the policy hooks on ``app`` (see the module docstring).

    The session key comes from the accounts database (shared by every worker process) unless the
    config sets ``SECRET_KEY``.

    Returns:
        the app's :class:`AccessControl` (also ``app.extensions["gisapp.accounts"]``).
    """
    settings: Settings = app.extensions[SETTINGS_KEY]
    control = AccessControl(settings)
    app.extensions[ACCESS_KEY] = control
    if not app.config.get("SECRET_KEY"):
        db = control.db
        app.config["SECRET_KEY"] = db.secret("session") if db.exists else secrets.token_hex(32)
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked by the policy hook for session users only
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the session's life
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    csrf = CSRFProtect(app)
    login = LoginManager(app)
    login.login_view = "auth.login"

    @login.user_loader
    def _load(user_id: str) -> SessionUser | None:
        user = control.db.user_by_id(int(user_id)) if control.db.exists and user_id.isdigit() else None
        return SessionUser(user) if user and user.active else None

    @app.before_request
    def _policy() -> Response | WerkzeugResponse | None:
        return _before(control, csrf)

    @app.after_request
    def _audit(response: Response) -> Response:
        return _after(control, response)

    @app.teardown_request
    def _release(_exc: BaseException | None) -> None:
        name = g.pop("gisapp_user_slot", None)
        if name is not None:
            control.limits.leave(name)

    @app.errorhandler(TooManyRequests)
    def _too_many(exc: TooManyRequests) -> Response:
        return _error(429, exc.code, exc.message, **{"Retry-After": str(exc.retry_after_s)})

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> tuple[Response, int]:
        return jsonify({"error": "csrf_failed", "message": f"CSRF 校验失败，请刷新页面 — {exc.description}"}), 400

    return control


def check_serving(host: str, settings: Settings, allow_anonymous: bool) -> str | None:
    """Refuse to serve on a non-loopback address without accounts (``gisapp serve --host 0.0.0.0``).

    Returns:
        a warning line to log when ``allow_anonymous`` lets it start anyway, else None.

    Raises:
        InputError: ``no_accounts`` when ``host`` is not loopback, no account exists and
            ``allow_anonymous`` is False.
    """
    from gisapp.core.errors import InputError

    if host in ("127.0.0.1", "localhost", "::1") or host.startswith("127."):
        return None
    if AccountsDB(database_url(settings.accounts_db, settings.layers_dir), create=False).has_users():
        return None
    if not allow_anonymous:
        raise InputError(
            f"refusing to serve on {host} without accounts: add one (gisapp users add NAME --role manage) "
            "or pass --allow-anonymous to serve everyone without login",
            code="no_accounts",
        )
    return f"WARNING: serving on {host} WITHOUT accounts (--allow-anonymous): anyone who can reach it may use it"
