"""GDAL's OAPIF driver (``ogrinfo``, Debian's gdal-bin) reads the OGC API with an API token — as a Bearer header
(``GDAL_HTTP_HEADERS``) or HTTP Basic (``GDAL_HTTP_AUTH=BASIC`` + ``GDAL_HTTP_USERPWD=user:token``) — and gets
401 without one (see docs/operations.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from gisapp.accounts.accountsdb import AccountsDB
from gisapp.web import create_app
from tests.helpers import live_server_for

pytestmark = pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="ogrinfo not installed (Debian gdal-bin)")


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, str]]:
    path = tmp_path_factory.mktemp("acc") / "acc.sqlite"
    db = AccountsDB(f"sqlite:///{path}")
    db.add_user("gdal", "gdal-password", "浏览")
    token = db.create_token("gdal", "ogrinfo")
    app = create_app({"TESTING": True, "GISAPP_ACCOUNTS_DB": str(path)})
    with live_server_for(app) as url:
        yield url, token


def ogrinfo(url: str, **config: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GDAL_HTTP")} | config
    args = ["ogrinfo", "-ro", "-so", f"OAPIF:{url}/ogc", "zs-towns"]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)


def test_ogrinfo_reads_with_a_bearer_token(served):
    url, token = served
    r = ogrinfo(url, GDAL_HTTP_HEADERS=f"Authorization: Bearer {token}")
    assert r.returncode == 0, r.stderr
    assert "using driver `OAPIF' successful" in r.stdout and "Layer name: zs-towns" in r.stdout


def test_ogrinfo_reads_with_basic_user_and_token(served):
    url, token = served
    r = ogrinfo(url, GDAL_HTTP_AUTH="BASIC", GDAL_HTTP_USERPWD=f"gdal:{token}")
    assert r.returncode == 0, r.stderr
    assert "Layer name: zs-towns" in r.stdout


def test_ogrinfo_without_a_token_gets_401(served):
    url, _token = served
    r = ogrinfo(url)
    assert r.returncode != 0
    assert "401" in r.stderr, r.stderr
    r = ogrinfo(url, GDAL_HTTP_HEADERS="Authorization: Bearer gis_not-a-token")
    assert r.returncode != 0 and "401" in r.stderr
