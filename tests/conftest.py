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


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """libpq URI of a PostGIS database in a throwaway cluster on a unix socket (tests/pg.py), stopped at the end.

    Skipped only when the PostgreSQL/PostGIS binaries are absent and we are not root (as root,
    ``scripts/test.sh`` installs them, so their absence is an error).
    """
    import os

    from tests import pg

    reason = pg.unavailable_reason()
    if reason is not None and os.geteuid() != 0:
        pytest.skip(reason)
    with pg.throwaway_cluster() as url:
        yield url
