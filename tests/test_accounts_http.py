"""Accounts over HTTP: 401/403/429 bodies, tokens (Bearer, ?token=, Basic), CSRF on session POSTs, layer
restrictions in lists and reads, the audit trail of analyses and imports, reports carrying their record id,
single-user mode untouched, ``gisapp serve`` refusing a public bind, and the ``users``/``audit`` commands."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import sqlite3
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest

from gisapp.accounts.accountsdb import AccountsDB
from gisapp.cli import main
from gisapp.core import paths
from gisapp.core.errors import InputError
from gisapp.core.settings import Settings
from gisapp.web import create_app
from gisapp.web.accounts import check_serving
from gisapp.web.admission import TooManyRequests, UserLimits
from tests.helpers import ZHONGSHANGANG, square_4547

REDLINE = "zs-industrial-redline"
PARCEL = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"id": "p1"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[113.48, 22.56], [113.49, 22.56], [113.49, 22.57], [113.48, 22.57], [113.48, 22.56]]],
            },
        }
    ],
}
UNAUTHORIZED = {
    "error": "unauthorized",
    "message": "请先登录或提供 API 令牌 — log in or send an API token (Authorization: Bearer …)",
}


@pytest.fixture(scope="module")
def accounts(tmp_path_factory):
    """An accounts database with one user per role, a token each, and the red line restricted to 分析."""
    path = tmp_path_factory.mktemp("acc") / "acc.sqlite"
    db = AccountsDB(f"sqlite:///{path}")
    tokens = {}
    for name, role in (("viewer", "浏览"), ("analyst", "分析"), ("boss", "管理")):
        db.add_user(name, f"{name}-password", role)
        tokens[name] = db.create_token(name, "test")
    db.set_layer_rule(REDLINE, "analyse")
    return db, tokens, path


@pytest.fixture(scope="module")
def app(accounts):
    db, _tokens, path = accounts
    return create_app({"TESTING": True, "GISAPP_ACCOUNTS_DB": str(path), "GISAPP_USER_RATE": 0})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_no_credentials_is_401_json_on_the_api_and_a_login_redirect_on_pages(app):
    c = app.test_client()
    for url in ("/api/layers", "/ogc/collections", "/api/map/layers"):
        r = c.get(url)
        assert r.status_code == 401 and r.get_json() == UNAUTHORIZED, url
        assert r.headers["WWW-Authenticate"] == 'Bearer realm="gisapp"'
    r = c.post("/api/overlap", json=PARCEL)
    assert r.status_code == 401 and r.get_json() == UNAUTHORIZED
    r = c.get("/accounting?rules=x")
    assert r.status_code == 302 and r.headers["Location"] == "/login?next=/accounting?rules%3Dx"
    assert c.get("/api/health").status_code == 200
    assert c.get("/login").status_code == 200
    assert c.get("/api/layers", headers=bearer("gis_wrong")).status_code == 401


def test_tokens_by_header_query_and_basic(app, accounts):
    _db, tokens, _path = accounts
    c = app.test_client()
    assert c.get("/api/layers", headers=bearer(tokens["viewer"])).status_code == 200
    assert c.get(f"/ogc/collections?f=json&token={tokens['viewer']}").status_code == 200
    for secret in (tokens["viewer"], "viewer-password"):
        basic = base64.b64encode(f"viewer:{secret}".encode()).decode()
        assert c.get("/api/layers", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    wrong_user = base64.b64encode(f"boss:{tokens['viewer']}".encode()).decode()
    assert c.get("/api/layers", headers={"Authorization": f"Basic {wrong_user}"}).status_code == 401


def test_viewer_cannot_run_an_overlap_nor_see_the_restricted_layer(app, accounts):
    _db, tokens, _path = accounts
    c = app.test_client()
    h = bearer(tokens["viewer"])
    r = c.post("/api/overlap", json=PARCEL, headers=h)
    assert r.status_code == 403
    assert r.get_json() == {
        "error": "forbidden",
        "message": "需要「分析」权限（当前为「浏览」）— role analyse required, you have view",
    }
    forbidden_layer = {
        "error": "forbidden_layer",
        "message": f"图层 {REDLINE} 需要「分析」权限 — layer {REDLINE} requires role analyse",
    }
    for url in (
        f"/api/layers/{REDLINE}",
        f"/api/layers/{REDLINE}.geojson",
        f"/ogc/collections/{REDLINE}/items?f=json",
        f"/api/map/layers/{REDLINE}/features?bbox=113,22,114,23&zoom=10",
    ):
        r = c.get(url, headers=h)
        assert r.status_code == 403 and r.get_json() == forbidden_layer, url
    assert c.get(f"/api/export/{REDLINE}?format=geojson", headers=h).status_code == 403
    ids = {m["id"] for m in c.get("/api/layers", headers=h).get_json()["layers"]}
    assert REDLINE not in ids and "zs-towns" in ids
    assert REDLINE not in {x["id"] for x in c.get("/ogc/collections?f=json", headers=h).get_json()["collections"]}
    page = c.get("/ogc/collections?f=html", headers=h).get_data(as_text=True)
    assert REDLINE not in page and "/collections/zs-towns" in page
    assert REDLINE not in json.dumps(c.get("/api/map/layers", headers=h).get_json())
    results = c.get("/api/map/search?q=火炬", headers=h).get_json()["results"]
    assert results and all(x["layer"] != REDLINE for x in results)
    analyst = bearer(tokens["analyst"])
    assert REDLINE in {m["id"] for m in c.get("/api/layers", headers=analyst).get_json()["layers"]}
    assert c.get(f"/api/layers/{REDLINE}", headers=analyst).status_code == 200


def test_analyst_overlap_is_audited_and_its_report_carries_the_record(app, accounts):
    db, tokens, _path = accounts
    c = app.test_client()
    body = json.dumps(PARCEL).encode()
    r = c.post("/api/overlap", data=body, headers=bearer(tokens["analyst"]), content_type="application/json")
    assert r.status_code == 200
    record = db.audit_record(r.headers["X-Audit-Record"])
    assert record is not None and (record.kind, record.user_name, record.address) == ("overlap", "analyst", "127.0.0.1")
    assert record.input_sha256 == hashlib.sha256(body).hexdigest()
    d = record.to_dict()
    assert d["parameters"]["path"] == "/api/overlap" and d["result"]["status"] == 200
    assert d["layers"]["store_version"] == 1 and len(d["layers"]["layers"][REDLINE]) == 16
    assert r.get_json()["provenance"]["audit_id"] == record.record_id
    r = c.post(
        "/api/overlap/report?format=html", data=body, headers=bearer(tokens["analyst"]), content_type="application/json"
    )
    audit_id = r.headers["X-Audit-Record"]
    html = r.get_data(as_text=True)
    assert f'<b id="audit-id">{audit_id}</b>' in html and f"{REDLINE}@" in html
    assert db.verify_audit() is None


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_session_login_csrf_and_logout(app, accounts):
    db, _tokens, _path = accounts
    c = app.test_client()
    r = c.post("/login", data={"name": "analyst", "password": "analyst-password"})  # no CSRF token
    assert r.status_code == 401 and "表单已过期或不完整" in r.get_data(as_text=True)
    token = _csrf(c.get("/login").get_data(as_text=True))
    r = c.post("/login", data={"name": "analyst", "password": "wrong-password", "csrf_token": token})
    assert r.status_code == 401 and "用户名或密码错误" in r.get_data(as_text=True)
    r = c.post("/login?next=/admin", data={"name": "analyst", "password": "analyst-password", "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"] == "/admin"
    assert [x.kind for x in db.audit_records(user="analyst", kind="login")][-1:] == ["login"]
    assert db.audit_records(kind="login_failed")[-1].user_name == "analyst"
    assert c.get("/api/me").get_json()["user"]["role"] == "analyse"
    r = c.get("/admin")
    assert r.status_code == 403 and r.get_json()["error"] == "forbidden"
    page = c.get("/").get_data(as_text=True)
    assert '<meta name="csrf-token"' in page and "/static/session.js" in page
    r = c.post("/api/overlap", json=PARCEL)
    assert r.status_code == 400 and r.get_json()["error"] == "csrf_failed"
    session_token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    assert c.post("/api/overlap", json=PARCEL, headers={"X-CSRFToken": session_token}).status_code == 200
    assert c.post("/logout", data={"csrf_token": session_token}).status_code == 302
    assert c.get("/api/layers").status_code == 401


def test_rate_limit_is_429_json(accounts):
    _db, tokens, path = accounts
    c = create_app({"TESTING": True, "GISAPP_ACCOUNTS_DB": str(path), "GISAPP_USER_RATE": 3}).test_client()
    h = bearer(tokens["viewer"])
    assert [c.get("/api/layers", headers=h).status_code for _ in range(3)] == [200, 200, 200]
    r = c.get("/api/layers", headers=h)
    assert r.status_code == 429 and r.headers["Retry-After"] == "20"
    assert r.get_json() == {
        "error": "too_many_requests",
        "message": "请求过于频繁：每分钟最多 3 次 — more than 3 requests a minute",
    }
    assert c.get("/api/layers", headers=bearer(tokens["analyst"])).status_code == 200  # per user


def test_concurrent_analyses_per_user():
    limits = UserLimits(0, 1)
    limits.enter("li")
    with pytest.raises(TooManyRequests) as exc:
        limits.enter("li")
    assert (exc.value.status, exc.value.code, exc.value.retry_after_s) == (429, "too_many_requests", 5)
    limits.enter("wang")
    limits.leave("li")
    limits.enter("li")


def test_single_user_mode_creates_nothing_and_asks_nothing(tmp_path):
    db_file = tmp_path / "none.sqlite"
    c = create_app({"TESTING": True, "GISAPP_ACCOUNTS_DB": str(db_file)}).test_client()
    assert c.get("/api/layers").status_code == 200
    r = c.post("/api/overlap", json=PARCEL)
    assert r.status_code == 200 and "X-Audit-Record" not in r.headers and "provenance" not in r.get_json()
    assert c.get("/api/me").get_json() == {"user": None, "mode": "single-user"}
    assert not db_file.exists()


def test_serve_refuses_a_public_address_without_accounts(tmp_path, accounts, capsys, monkeypatch):
    _db, _tokens, path = accounts
    none = Settings.load({"GISAPP_ACCOUNTS_DB": str(tmp_path / "none.sqlite")})
    assert check_serving("127.0.0.1", none, False) is None
    with pytest.raises(InputError) as exc:
        check_serving("0.0.0.0", none, False)
    assert exc.value.code == "no_accounts"
    assert check_serving("0.0.0.0", none, True).startswith("WARNING: serving on 0.0.0.0 WITHOUT accounts")
    assert check_serving("0.0.0.0", Settings.load({"GISAPP_ACCOUNTS_DB": str(path)}), False) is None
    monkeypatch.setenv("GISAPP_ACCOUNTS_DB", str(tmp_path / "none.sqlite"))
    assert main(["serve", "--host", "0.0.0.0", "--dev"]) == 2
    assert "refusing to serve on 0.0.0.0 without accounts" in capsys.readouterr().err


def test_users_and_audit_commands(tmp_path, monkeypatch, capsys):
    store = tmp_path / "layers"
    store.mkdir()
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-pass\n"))
    assert main(["users", "add", "li", "--role", "分析", "--password-stdin", "--store", str(store)]) == 0
    assert "user li added with role analyse (分析)" in capsys.readouterr().out
    assert main(["users", "token", "li", "--store", str(store)]) == 0
    token = capsys.readouterr().out.strip()
    db = AccountsDB(f"sqlite:///{tmp_path / 'layers.accounts.sqlite'}")
    assert db.token_user(token).name == "li"
    assert main(["users", "restrict", REDLINE, "manage", "--store", str(store)]) == 0
    assert main(["users", "list", "--json", "--store", str(store)]) == 0
    listed = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert listed["users"][0]["name"] == "li" and listed["layer_rules"] == {REDLINE: "manage"}
    for kind in ("login", "overlap", "export"):
        db.append_audit(user="li", address="10.0.0.1", kind=kind, parameters={"k": kind})
    assert main(["audit", "log", "--kind", "overlap", "--format", "csv", "--store", str(store)]) == 0
    rows = capsys.readouterr().out.strip().split("\n")
    assert rows[0].startswith("seq,record_id,time,user_name") and len(rows) == 2 and ",overlap," in rows[1]
    assert main(["audit", "verify", "--store", str(store)]) == 0
    assert "audit trail intact: 3 record(s)" in capsys.readouterr().out
    # a failed login records whatever name was typed: no formula reaches a spreadsheet
    db.append_audit(user='=HYPERLINK("http://x","y")', address="10.0.0.2", kind="login_failed")
    assert main(["audit", "log", "--kind", "login_failed", "--format", "csv", "--store", str(store)]) == 0
    assert "'=HYPERLINK" in capsys.readouterr().out
    second = db.audit_records()[1]
    con = sqlite3.connect(tmp_path / "layers.accounts.sqlite")
    con.execute("drop trigger audit_no_update")
    con.execute("update audit set result = '{\"status\":200}' where seq = 2")
    con.commit()
    con.close()
    assert main(["audit", "verify", "--store", str(store)]) == 1
    out = capsys.readouterr().out
    assert f"audit trail BROKEN: record #2 ({second.record_id}): its content does not match its hash" in out
    assert main(["users", "disable", "li", "--store", str(store)]) == 0
    assert db.token_user(token) is None
    assert main(["users", "disable", "nobody", "--store", str(store)]) == 2


@pytest.fixture()
def store_copy(tmp_path) -> Path:
    return Path(shutil.copytree(paths.layers_dir(), tmp_path / "layers"))


def test_import_preview_publish_and_rollback_over_http(store_copy, tmp_path):
    db = AccountsDB(f"sqlite:///{tmp_path / 'layers.accounts.sqlite'}")
    db.add_user("boss", "boss-password", "manage")
    db.add_user("analyst", "analyst-password", "analyse")
    h = bearer(db.create_token("boss"))
    c = create_app({"TESTING": True, "GISAPP_LAYERS_DIR": str(store_copy)}).test_client()
    src = tmp_path / "red.gpkg"
    gpd.GeoDataFrame(
        {"BH": ["A1", "A2"], "JB": ["一级", "二级"]},
        geometry=[square_4547(*ZHONGSHANGANG, 1000), square_4547(113.25, 22.67, 1000)],
        crs="EPSG:4547",
    ).to_file(src, driver="GPKG")
    form = {"kind": "redline", "id_field": "BH", "tier_field": "JB", "file": (io.BytesIO(src.read_bytes()), "red.gpkg")}
    analyst = bearer(db.create_token("analyst"))
    assert c.post("/api/admin/imports", data=dict(form), headers=analyst).status_code == 403
    form["file"] = (io.BytesIO(src.read_bytes()), "red.gpkg")
    r = c.post("/api/admin/imports", data=form, headers=h)
    assert r.status_code == 200, r.get_json()
    p = r.get_json()
    assert p["report"]["features"] == 2 and p["diff"]["added"] == ["A1", "A2"] and len(p["diff"]["removed"]) == 8
    assert p["diff"]["total"]["new_km2"] == pytest.approx(2.0, abs=1e-3)
    tiers = {x["key"]: x["net_km2"] for x in p["diff"]["by_tier"]}
    assert tiers["一级"] == pytest.approx(1.0, abs=1e-3) and tiers["二级"] == pytest.approx(1.0, abs=1e-3)
    towns = {x["key"]: x for x in p["diff"]["by_town"]}
    assert towns["中山港街道"]["new_km2"] == pytest.approx(1.0, abs=1e-3)
    old_total = p["diff"]["total"]["old_km2"]
    r = c.post(f"/api/admin/imports/{p['id']}/publish", headers=h)
    assert r.get_json() == {"version": 2, "changed": [REDLINE], "unchanged": False}
    versions = c.get("/api/admin/history", headers=h).get_json()["versions"]
    assert [v["version"] for v in versions] == [2, 1] and versions[0]["command"] == "redline import red.gpkg"
    assert versions[0]["redline_km2"] == pytest.approx(2.0, abs=1e-3) and versions[1]["redline_km2"] == old_total
    r = c.post("/api/admin/rollback", headers=h)
    assert r.get_json() == {"from_version": 2, "to_version": 1}
    assert c.post("/api/admin/rollback", headers=h).get_json()["error"] == "nothing_to_roll_back"
    bad = {"kind": "redline", "file": (io.BytesIO(b"not a file"), "x.txt")}
    assert c.post("/api/admin/imports", data=bad, headers=h).get_json()["error"] == "unsupported_format"
    kinds = [x["kind"] for x in c.get("/api/admin/audit", headers=h).get_json()["records"]]
    assert kinds == ["rollback", "publish", "import"]
    assert c.get("/api/admin/audit", headers=h).get_json()["verified"] is True


def test_figures_of_a_restricted_line_need_its_role(app, accounts):
    _db, tokens, _path = accounts
    c = app.test_client()
    for url in ("/accounting", "/api/accounting/report", "/api/redline/report"):
        assert c.get(url, headers=bearer(tokens["viewer"])).status_code == 403, url
        assert c.get(url, headers=bearer(tokens["analyst"])).status_code == 200, url


def test_cli_rollback_is_audited_when_the_store_has_accounts(store_copy, tmp_path, capsys):
    db = AccountsDB(f"sqlite:///{tmp_path / 'layers.accounts.sqlite'}")
    from gisapp.store.storetxn import VersionedStore

    with VersionedStore(store_copy).transaction("test") as txn:
        shutil.copy(store_copy / "zs-towns.geojson", txn.stage_dir / "zs-towns.geojson")
        (txn.stage_dir / "zs-towns.meta.json").write_text((store_copy / "zs-towns.meta.json").read_text("utf-8") + " ")
        txn.commit()
    assert main(["store", "rollback", "--store", str(store_copy)]) == 0
    (record,) = db.audit_records(kind="rollback")
    assert record.user_name.startswith("cli:") and record.to_dict()["result"] == {"from_version": 2, "to_version": 1}


def test_pdf_report_prints_its_audit_record(app, accounts):
    from pypdf import PdfReader

    _db, tokens, _path = accounts
    r = app.test_client().post("/api/overlap/report?format=pdf", json=PARCEL, headers=bearer(tokens["analyst"]))
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.data)).pages)
    assert r.headers["X-Audit-Record"] in text.replace("\n", "")


def test_login_attempts_are_rate_limited(accounts):
    _db, _tokens, path = accounts
    c = create_app({"TESTING": True, "GISAPP_ACCOUNTS_DB": str(path), "GISAPP_USER_RATE": 2}).test_client()
    statuses = [c.post("/login", data={"name": "x", "password": "y"}).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


def test_responses_to_an_account_are_private(app, accounts):
    _db, tokens, _path = accounts
    r = app.test_client().get("/api/map/layers", headers=bearer(tokens["viewer"]))
    assert r.headers["Cache-Control"] == "private, no-store"
    assert {"Cookie", "Authorization"} <= set(r.vary)
    r = app.test_client().get("/api/layers/zs-towns", headers=bearer(tokens["viewer"]))
    assert r.headers["Cache-Control"] == "private"


def test_an_overlap_cannot_reach_a_line_above_the_role(tmp_path):
    db = AccountsDB(f"sqlite:///{tmp_path / 'acc.sqlite'}")
    db.add_user("analyst", "analyst-password", "分析")
    db.set_layer_rule(REDLINE, "管理")
    h = bearer(db.create_token("analyst"))
    c = create_app({"TESTING": True, "GISAPP_ACCOUNTS_DB": str(tmp_path / "acc.sqlite")}).test_client()
    for url in ("/api/overlap", f"/api/overlap?target={REDLINE}[tier=一级]", "/api/export/overlap?format=geojson"):
        r = c.post(url, json=PARCEL, headers=h)
        assert r.status_code == 403 and r.get_json()["error"] == "forbidden_layer", url
    assert c.post("/api/overlap?target=zs-towns", json=PARCEL, headers=h).status_code == 200


def test_a_second_analysis_of_the_same_user_is_429(accounts):
    _db, tokens, path = accounts
    app = create_app({"TESTING": True, "GISAPP_ACCOUNTS_DB": str(path), "GISAPP_USER_ANALYSES": 1})
    control = app.extensions["gisapp.accounts"]
    control.limits.enter("analyst")  # an analysis of analyst still running
    c = app.test_client()
    r = c.post("/api/overlap", json=PARCEL, headers=bearer(tokens["analyst"]))
    assert r.status_code == 429 and r.headers["Retry-After"] == "5"
    assert r.get_json() == {
        "error": "too_many_requests",
        "message": "同时进行的分析已达上限 1 个 — at most 1 analyses at once per user",
    }
    assert c.post("/api/overlap", json=PARCEL, headers=bearer(tokens["boss"])).status_code == 200
    control.limits.leave("analyst")
    assert c.post("/api/overlap", json=PARCEL, headers=bearer(tokens["analyst"])).status_code == 200
    assert control.limits._running == {}  # every slot given back


def test_a_named_target_set_is_checked_layer_by_layer(app, accounts):
    """``target=controls`` stands for its four control lines: a line restricted above the user's role
    makes the request 403 (it used to pass, the set's name not being a layer)."""
    db, tokens, _path = accounts
    c = app.test_client()
    db.set_layer_rule("zs-farmland", "manage")
    app.extensions["gisapp.accounts"].refresh()  # the app caches the layer rules for 2 s
    try:
        r = c.post("/api/overlap?target=controls", json=PARCEL, headers=bearer(tokens["analyst"]))
        assert r.status_code == 403 and r.get_json()["error"] == "forbidden_layer"
        assert "zs-farmland" in r.get_json()["message"]
        r = c.post("/api/overlap?target=controls", json=PARCEL, headers=bearer(tokens["boss"]))
        assert r.status_code == 200 and len(r.get_json()["control_lines"]["lines"]) == 4
    finally:
        db.set_layer_rule("zs-farmland", None)
        app.extensions["gisapp.accounts"].refresh()


def test_a_control_line_of_sanqu_sanxian_is_imported_over_http(store_copy, tmp_path):
    """永久基本农田 through the 管理 import: preview with its diff by town, publish, then roll back."""
    db = AccountsDB(f"sqlite:///{tmp_path / 'layers.accounts.sqlite'}")
    db.add_user("boss", "boss-password", "manage")
    h = bearer(db.create_token("boss"))
    c = create_app({"TESTING": True, "GISAPP_LAYERS_DIR": str(store_copy)}).test_client()
    src = tmp_path / "farmland.gpkg"
    gpd.GeoDataFrame({"TBBH": ["F1"]}, geometry=[square_4547(*ZHONGSHANGANG, 1000)], crs="EPSG:4547").to_file(
        src, driver="GPKG"
    )
    form = {"kind": "farmland", "id_field": "TBBH", "file": (io.BytesIO(src.read_bytes()), "farmland.gpkg")}
    r = c.post("/api/admin/imports", data=form, headers=h)
    assert r.status_code == 200, r.get_json()
    p = r.get_json()
    assert p["layer"] == "zs-farmland" and p["title"].startswith("永久基本农田")
    assert p["report"]["features"] == 1 and p["diff"]["added"] == ["F1"]
    assert p["diff"]["total"]["new_km2"] == pytest.approx(1.0, abs=1e-3)
    assert {x["key"]: x["new_km2"] for x in p["diff"]["by_town"]}["中山港街道"] == pytest.approx(1.0, abs=1e-3)
    r = c.post(f"/api/admin/imports/{p['id']}/publish", headers=h)
    assert r.get_json() == {"version": 2, "changed": ["zs-farmland"], "unchanged": False}
    meta = c.get("/api/layers/zs-farmland", headers=h).get_json()
    assert meta["geometry_basis"] == "official"
    assert c.post("/api/admin/rollback", headers=h).get_json() == {"from_version": 2, "to_version": 1}
    assert c.get("/api/layers/zs-farmland", headers=h).get_json()["geometry_basis"] == "illustrative"
    bad = {"kind": "mines", "file": (io.BytesIO(src.read_bytes()), "x.gpkg")}
    r = c.post("/api/admin/imports", data=bad, headers=h)
    assert r.status_code == 400 and r.get_json()["error"] == "unknown_import_kind"
    assert "farmland" in r.get_json()["message"]


def test_a_restricted_mixed_layer_is_hidden_in_each_geometry_type_collection(app, accounts):
    """A mixed layer is served as one OGC collection per geometry type (for QGIS): restricting the layer
    restricts every part — items 403, absent from the collections (JSON and HTML) and from the OpenAPI
    document. Before, ``gz-services-structure-points`` answered 200 with 93 features to a 浏览 account."""
    db, tokens, _path = accounts
    c = app.test_client()
    layer = "gz-services-structure"
    db.set_layer_rule(layer, "analyse")
    app.extensions["gisapp.accounts"].refresh()
    try:
        viewer, analyst = bearer(tokens["viewer"]), bearer(tokens["analyst"])
        for part in (f"{layer}-points", f"{layer}-polygons"):
            r = c.get(f"/ogc/collections/{part}/items?f=json", headers=viewer)
            assert r.status_code == 403 and r.get_json()["error"] == "forbidden_layer", part
            assert c.get(f"/ogc/collections/{part}/items?f=json", headers=analyst).status_code == 200
        ids = {x["id"] for x in c.get("/ogc/collections?f=json", headers=viewer).get_json()["collections"]}
        assert not [i for i in ids if i.startswith(layer)] and "zs-towns" in ids
        assert layer not in c.get("/ogc/collections?f=html", headers=viewer).get_data(as_text=True)
        assert layer not in c.get("/ogc/openapi?f=json", headers=viewer).get_data(as_text=True)
        assert f"/collections/{layer}-points" in c.get("/ogc/openapi?f=json", headers=analyst).get_data(as_text=True)
    finally:
        db.set_layer_rule(layer, None)
        app.extensions["gisapp.accounts"].refresh()


def test_cross_origin_writes_are_refused_also_in_single_user_mode(store_copy):
    """Without accounts (loopback, single user) nothing else stands between another site's page and the
    server: a POST whose Origin is another site is 403 before any route runs (before: only the review
    page checked it; ``/api/admin/rollback`` answered another site)."""
    c = create_app({"TESTING": True, "GISAPP_LAYERS_DIR": str(store_copy)}).test_client()
    evil = {"Origin": "http://evil.example"}
    for url in ("/api/admin/rollback", "/api/overlap", "/api/plans/review?file=x.yaml"):
        r = c.post(url, json=PARCEL, headers=evil)
        assert r.status_code == 403 and r.get_json()["error"] == "forbidden_origin", url
    same = {"Origin": "http://localhost"}
    assert c.post("/api/overlap", json=PARCEL, headers=same).status_code == 200
    assert c.post("/api/overlap", json=PARCEL).status_code == 200  # scripts send no Origin


def test_an_upload_to_the_manage_page_is_checked_inside_a_zip_too(store_copy, tmp_path):
    """A zipped GeoPackage gets the GeoPackage schema check (no views, foreign triggers, virtual tables) and a
    zipped ``.geojson`` that is really a GDAL VRT is opened by no driver but GeoJSON's; before, only a
    top-level GeoPackage was checked (a zipped one with a view was previewed, 200)."""
    import sqlite3

    db = AccountsDB(f"sqlite:///{tmp_path / 'layers.accounts.sqlite'}")
    db.add_user("boss", "boss-password", "manage")
    h = bearer(db.create_token("boss"))
    c = create_app({"TESTING": True, "GISAPP_LAYERS_DIR": str(store_copy)}).test_client()
    gpkg = tmp_path / "red.gpkg"
    gpd.GeoDataFrame({"BH": ["A1"]}, geometry=[square_4547(*ZHONGSHANGANG, 1000)], crs="EPSG:4547").to_file(
        gpkg, driver="GPKG"
    )
    con = sqlite3.connect(gpkg)
    con.execute("CREATE VIEW sneaky AS SELECT * FROM sqlite_master")
    con.commit()
    con.close()
    vrt = b'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/etc/passwd</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>'
    for name, data in (("red.gpkg", gpkg.read_bytes()), ("red.geojson", vrt)):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(name, data)
        form = {"kind": "redline", "id_field": "BH", "file": (io.BytesIO(buf.getvalue()), "red.zip")}
        r = c.post("/api/admin/imports", data=form, headers=h)
        assert r.status_code in (400, 415, 422), (name, r.get_json())
        assert r.get_json()["error"] in ("invalid_gpkg", "unsupported_format", "unreadable_file"), name
        assert "/etc/passwd" not in r.get_data(as_text=True)
