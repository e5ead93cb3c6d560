"""Shared fixtures: the Flask app on the bundled layers, its test client, and a live server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from gisapp.web import create_app


@pytest.fixture(scope="session")
def app():  # type: ignore[no-untyped-def]
    """The app on the bundled layers in ``layers/``."""
    return create_app({"TESTING": True})


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    """Flask test client."""
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 (random port) in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
