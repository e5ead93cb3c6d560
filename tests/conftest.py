"""Shared fixtures: the Flask app on the bundled layers, its test client, and a live server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gisapp.web import create_app
from tests.helpers import live_server_for


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
    with live_server_for(app) as url:
        yield url
