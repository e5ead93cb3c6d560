"""Accounts core (gisapp.accounts): password hashing, roles, tokens, layer rules, the audit chain."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gisapp.accounts.accountsdb import AccountsDB, database_url, default_url
from gisapp.accounts.audit import GENESIS
from gisapp.accounts.roles import Role, parse_role
from gisapp.core.errors import InputError


@pytest.fixture()
def db(tmp_path: Path) -> AccountsDB:
    return AccountsDB(f"sqlite:///{tmp_path / 'acc.sqlite'}")


def test_default_url_is_beside_the_store(tmp_path: Path) -> None:
    assert default_url(tmp_path / "layers") == f"sqlite:///{tmp_path / 'layers.accounts.sqlite'}"
    assert database_url("", tmp_path / "layers") == default_url(tmp_path / "layers")
    assert database_url("postgresql+psycopg://u@h/db", tmp_path) == "postgresql+psycopg://u@h/db"
    assert database_url("postgresql://u@/db?host=/run/pg", tmp_path) == "postgresql+psycopg://u@/db?host=/run/pg"
    assert database_url(str(tmp_path / "a.db"), tmp_path) == f"sqlite:///{tmp_path / 'a.db'}"


def test_missing_sqlite_file_is_not_created_without_create(tmp_path: Path) -> None:
    db = AccountsDB(f"sqlite:///{tmp_path / 'none.sqlite'}", create=False)
    assert not db.exists and not db.has_users() and db.users() == []
    assert not (tmp_path / "none.sqlite").exists()


def test_roles_order_and_names() -> None:
    assert Role.VIEW < Role.ANALYSE < Role.MANAGE
    assert parse_role("浏览") is Role.VIEW and parse_role("分析") is Role.ANALYSE and parse_role("管理") is Role.MANAGE
    assert parse_role(" Analyse ") is Role.ANALYSE and parse_role("admin") is Role.MANAGE
    with pytest.raises(InputError) as exc:
        parse_role("boss")
    assert exc.value.code == "unknown_role"


def test_passwords_are_argon2id_and_checked(db: AccountsDB) -> None:
    u = db.add_user("li", "correct horse", "分析")
    assert u.role is Role.ANALYSE and u.active
    with db.engine.connect() as c:
        stored = c.exec_driver_sql("select password_hash from users").scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert db.check_password("li", "correct horse") == u
    assert db.check_password("li", "wrong horse!") is None
    assert db.check_password("nobody", "correct horse") is None
    with pytest.raises(InputError) as exc:
        db.add_user("li", "another pass", "view")
    assert (exc.value.code, exc.value.status) == ("user_exists", 409)
    with pytest.raises(InputError) as exc:
        db.add_user("wang", "short", "view")
    assert exc.value.code == "invalid_user"


def test_tokens_store_only_a_hash_and_die_with_the_account(db: AccountsDB) -> None:
    db.add_user("zhao", "password1", "view")
    token = db.create_token("zhao", "qgis")
    assert token.startswith("gis_") and len(token) > 40
    with db.engine.connect() as c:
        stored = c.exec_driver_sql("select token_sha256 from tokens").scalar_one()
    assert token not in stored and len(stored) == 64
    assert db.token_user(token).name == "zhao"
    assert db.token_user(token + "x") is None
    db.set_active("zhao", False)
    assert db.token_user(token) is None and db.check_password("zhao", "password1") is None
    assert db.has_users()  # a disabled account still means logins are required
    db.set_active("zhao", True)
    assert db.revoke_tokens("zhao") == 1 and db.token_user(token) is None


def test_layer_rules(db: AccountsDB) -> None:
    db.set_layer_rule("zs-industrial-redline", "分析")
    assert db.layer_rules() == {"zs-industrial-redline": Role.ANALYSE}
    db.set_layer_rule("zs-industrial-redline", None)
    assert db.layer_rules() == {}


def _fill(db: AccountsDB) -> list[str]:
    ids = []
    for i, kind in enumerate(("login", "overlap", "publish")):
        r = db.append_audit(
            user="li", address="127.0.0.1", kind=kind, input_sha256="ab" * 32, parameters={"n": i}, result={"ok": True}
        )
        ids.append(r.record_id)
    return ids


def test_audit_chain_links_and_verifies(db: AccountsDB) -> None:
    ids = _fill(db)
    recs = db.audit_records()
    assert [r.seq for r in recs] == [1, 2, 3] and [r.record_id for r in recs] == ids
    assert recs[0].prev_hash == GENESIS and recs[1].prev_hash == recs[0].hash and recs[2].prev_hash == recs[1].hash
    assert db.verify_audit() is None
    assert [r.kind for r in db.audit_records(kind="overlap")] == ["overlap"]
    assert db.audit_records(user="nobody") == []
    assert [r.seq for r in db.audit_records(limit=2)] == [2, 3]
    assert db.audit_record(ids[1]).to_dict()["parameters"] == {"n": 1}


def test_audit_is_append_only_in_sqlite(db: AccountsDB) -> None:
    _fill(db)
    with pytest.raises(Exception, match="append-only"):
        with db.engine.begin() as c:
            c.exec_driver_sql("update audit set kind = 'x' where seq = 2")
    with pytest.raises(Exception, match="append-only"):
        with db.engine.begin() as c:
            c.exec_driver_sql("delete from audit where seq = 2")


def _tamper(path: Path, sql: str) -> None:
    con = sqlite3.connect(path)
    con.execute("drop trigger audit_no_update")
    con.execute("drop trigger audit_no_delete")
    con.execute(sql)
    con.commit()
    con.close()


def test_tampering_names_the_record(tmp_path: Path) -> None:
    path = tmp_path / "acc.sqlite"
    db = AccountsDB(f"sqlite:///{path}")
    ids = _fill(db)
    _tamper(path, "update audit set user_name = 'wang' where seq = 2")
    assert db.verify_audit() == f"record #2 ({ids[1]}): its content does not match its hash (the record was altered)"


def test_deleting_a_record_names_the_next(tmp_path: Path) -> None:
    path = tmp_path / "acc.sqlite"
    db = AccountsDB(f"sqlite:///{path}")
    ids = _fill(db)
    _tamper(path, "delete from audit where seq = 2")
    assert db.verify_audit() == f"record #3 ({ids[2]}): records #2…#2 are missing (deleted)"


def test_secret_is_stable(db: AccountsDB) -> None:
    assert db.secret("session") == db.secret("session") and len(db.secret("session")) == 64


def test_layer_diff_of_a_red_line_by_town_and_tier() -> None:
    import geopandas as gpd

    from gisapp.plans.publish import layer_diff
    from tests.helpers import ZHONGSHANGANG, square_4547

    towns = gpd.GeoDataFrame(
        {"name": ["东区", "西区"]},
        geometry=[square_4547(*ZHONGSHANGANG, 2000), square_4547(*ZHONGSHANGANG, 2000, dx=2000)],
        crs="EPSG:4547",
    ).to_crs("EPSG:4326")
    old = gpd.GeoDataFrame(
        {"block_id": ["A", "B"], "tier": ["一级", "二级"]},
        geometry=[square_4547(*ZHONGSHANGANG, 1000), square_4547(*ZHONGSHANGANG, 1000, dx=2500)],
        crs="EPSG:4547",
    ).to_crs("EPSG:4326")
    new = gpd.GeoDataFrame(
        {"block_id": ["A", "C"], "tier": ["一级", "一级"]},
        geometry=[square_4547(*ZHONGSHANGANG, 1000), square_4547(*ZHONGSHANGANG, 500, dx=1500)],
        crs="EPSG:4547",
    ).to_crs("EPSG:4326")
    d = layer_diff(old, new, "block_id", towns)
    assert (d["added"], d["removed"], d["changed"], d["unchanged"]) == (["C"], ["B"], [], 1)
    assert d["total"] == pytest.approx({"old_km2": 2.0, "new_km2": 1.25, "net_km2": -0.75}, abs=1e-5)
    by_town = {r["key"]: r["net_km2"] for r in d["by_town"]}
    assert by_town == pytest.approx({"东区": 0.25, "西区": -1.0}, abs=1e-5)
    by_tier = {r["key"]: (r["old_km2"], r["new_km2"]) for r in d["by_tier"]}
    assert by_tier == {"一级": pytest.approx((1.0, 1.25), abs=1e-5), "二级": pytest.approx((1.0, 0.0), abs=1e-5)}


def test_layer_diff_of_a_town_layer_is_per_unit() -> None:
    import geopandas as gpd

    from gisapp.plans.publish import layer_diff
    from tests.helpers import ZHONGSHANGANG, square_4547

    def towns(side: float) -> gpd.GeoDataFrame:
        geoms = [square_4547(*ZHONGSHANGANG, 1000), square_4547(*ZHONGSHANGANG, side, dx=1000)]
        return gpd.GeoDataFrame({"name": ["东区", "西区"]}, geometry=geoms, crs="EPSG:4547").to_crs("EPSG:4326")

    d = layer_diff(towns(1000), towns(2000), "name", None)
    assert (d["added"], d["removed"], d["changed"], d["unchanged"]) == ([], [], ["西区"], 1)
    assert {r["key"]: r["net_km2"] for r in d["by_town"]} == pytest.approx({"东区": 0.0, "西区": 3.0}, abs=1e-5)
    assert d["by_tier"] == []
