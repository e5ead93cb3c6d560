"""HTTP hardening shared by every route: security headers, the request-body limit, a fixed base URL.

What it enforces (see ``docs/security.md`` for the threat model):

* every response carries ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``,
  ``X-Frame-Options: SAMEORIGIN`` and — for HTML — a Content-Security-Policy without inline script
  (:data:`DEFAULT_CSP`, unless the route set a stricter one of its own, e.g. the map page with its tile
  origins); a route's own CSP gets ``frame-ancestors`` when it lacks it;
* :class:`BodyLimit`: a body sent with ``Transfer-Encoding: chunked`` (no ``Content-Length``) is read
  up to the upload limit; one byte more is answered 413 JSON — never cut silently and analysed;
* :class:`FixedBaseUrl`: with ``GISAPP_BASE_URL`` configured, every link the app writes (``url_for``
  with ``_external``, OGC API links) is built from it, not from the client's ``Host`` header.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Response

from gisapp.core.errors import InputError

#: The Content-Security-Policy of every HTML page that does not set its own: everything from this server,
#: no inline script, no plugins, not framed by other sites.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)

_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
}

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def add_security_headers(response: Response) -> Response:
    """Add the headers above to ``response`` (a Flask ``after_request`` hook); return it.

    Args:
        response: any response of the app (HTML, JSON, files, static assets).

    Returns:
        the same response, with ``nosniff``, ``Referrer-Policy``, ``X-Frame-Options`` and, for
        ``text/html``, a Content-Security-Policy (:data:`DEFAULT_CSP` or the route's own plus
        ``frame-ancestors``).
    """
    for key, value in _HEADERS.items():
        response.headers.setdefault(key, value)
    if response.mimetype == "text/html":
        csp = response.headers.get("Content-Security-Policy")
        if not csp:
            response.headers["Content-Security-Policy"] = DEFAULT_CSP
        elif "frame-ancestors" not in csp:
            response.headers["Content-Security-Policy"] = csp.rstrip("; ") + "; frame-ancestors 'self'"
    return response


def _json_error(start_response: Callable[..., Any], status: str, code: str, message: str) -> list[bytes]:
    body = json.dumps({"error": code, "message": message}, ensure_ascii=False).encode("utf-8")
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("X-Content-Type-Options", "nosniff"),
            ("Connection", "close"),
        ],
    )
    return [body]


class BodyLimit:
    """WSGI middleware: a request body without ``Content-Length`` is read whole, up to a limit.

    A chunked body is buffered (at most ``max_bytes``); a body longer than that is answered
    ``413 {"error": "too_large", …}`` before the app sees it. A buffered body is handed on with its
    ``Content-Length``, so every route and form parser sees one complete body. Bodies that declare a
    ``Content-Length`` are left to Flask's ``MAX_CONTENT_LENGTH`` check (the same limit).

    Args:
        app: the WSGI app to wrap.
        max_bytes: the limit (bytes), usually ``MAX_CONTENT_LENGTH``; a callable is read per request.
    """

    def __init__(self, app: WsgiApp, max_bytes: int | Callable[[], int]) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _limit(self) -> int:
        return int(self.max_bytes() if callable(self.max_bytes) else self.max_bytes)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Buffer a chunked body (or answer 413), then call the wrapped app."""
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            limit = self._limit()
            stream = environ["wsgi.input"]
            buf = io.BytesIO()
            while buf.tell() <= limit:
                block = stream.read(min(1 << 16, limit + 1 - buf.tell()))
                if not block:
                    break
                buf.write(block)
            if buf.tell() > limit:
                mb = limit / (1024 * 1024)
                return _json_error(
                    start_response,
                    "413 Request Entity Too Large",
                    "too_large",
                    f"upload larger than the {mb:g} MB limit",
                )
            environ["CONTENT_LENGTH"] = str(buf.tell())
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ["wsgi.input"] = io.BytesIO(buf.getvalue())
            environ["wsgi.input_terminated"] = False
        return self.app(environ, start_response)


def parse_base_url(value: str) -> tuple[str, str, str]:
    """Split a configured base URL into ``(scheme, host[:port], path prefix)``.

    Args:
        value: e.g. ``http://gis.example.gov.cn:5000`` or ``https://intranet/gis``.

    Returns:
        the scheme (``http``/``https``), the network location and the path without a trailing ``/``.

    Raises:
        InputError: ``invalid_setting`` unless it is an absolute http(s) URL without query or fragment.
    """
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InputError(
            f"GISAPP_BASE_URL must be an absolute http(s) URL such as http://host:5000, not {value!r}",
            code="invalid_setting",
        )
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


class FixedBaseUrl:
    """WSGI middleware: every request is seen as addressed to the configured base URL.

    The ``Host`` header, scheme and script root that Flask and pygeoapi build links from are replaced
    by those of ``base_url``, so a client cannot make the app write links (OGC ``next`` pages,
    ``url_for(_external=True)``) that point elsewhere.

    Args:
        app: the WSGI app to wrap.
        base_url: see :func:`parse_base_url`.

    Raises:
        InputError: ``invalid_setting`` for a malformed ``base_url``.
    """

    def __init__(self, app: WsgiApp, base_url: str) -> None:
        self.app = app
        self.scheme, self.netloc, self.prefix = parse_base_url(base_url)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Rewrite ``HTTP_HOST``, ``SERVER_NAME``/``SERVER_PORT``, the scheme and ``SCRIPT_NAME``."""
        environ["HTTP_HOST"] = self.netloc
        environ["wsgi.url_scheme"] = self.scheme
        host, _, port = self.netloc.rpartition(":") if "]" not in self.netloc.rsplit(":", 1)[-1] else ("", "", "")
        if host and port.isdigit():
            environ["SERVER_NAME"], environ["SERVER_PORT"] = host, port
        else:
            environ["SERVER_NAME"] = self.netloc
            environ["SERVER_PORT"] = "443" if self.scheme == "https" else "80"
        if self.prefix:
            path = environ.get("PATH_INFO", "")
            if path.startswith(self.prefix):  # a proxy that keeps the prefix in the path
                environ["PATH_INFO"] = path[len(self.prefix) :] or "/"
            environ["SCRIPT_NAME"] = self.prefix
        return self.app(environ, start_response)
