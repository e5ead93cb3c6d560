"""The accounts database on PostgreSQL (the same schema as SQLite): users, tokens, layer rules and the
audit chain, in the throwaway cluster of ``tests/pg.py``; rules make the audit table append-only there."""

from __future__ import annotations

import pytest

from gisapp.accounts import schema
from gisapp.accounts.accountsdb import AccountsDB
from gisapp.accounts.roles import Role
from tests.test_accounts import _fill


@pytest.fixture()
def pgdb(pg_url: str) -> AccountsDB:
    db = AccountsDB(pg_url)  # a libpq URI, as GISAPP_ACCOUNTS_DB takes it
    with db.engine.begin() as c:  # a clean slate per test (the cluster is shared by the session)
        for table in reversed(schema.metadata.sorted_tables):
            c.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name} CASCADE")
    db.engine.dispose()
    return AccountsDB(pg_url)  # creates the schema again, with its rules


def test_users_tokens_and_rules_on_postgresql(pgdb: AccountsDB) -> None:
    assert pgdb.engine.dialect.name == "postgresql"
    pgdb.add_user("li", "li-password-1", "分析")
    assert pgdb.check_password("li", "li-password-1") is not None and pgdb.check_password("li", "x") is None
    token = pgdb.create_token("li", "qgis")
    user = pgdb.token_user(token)
    assert user is not None and user.name == "li" and user.role == Role.ANALYSE
    pgdb.set_layer_rule("zs-industrial-redline", "manage")
    assert pgdb.layer_rules() == {"zs-industrial-redline": Role.MANAGE}


def test_audit_chain_is_append_only_and_tampering_is_named_on_postgresql(pgdb: AccountsDB) -> None:
    ids = _fill(pgdb)
    assert pgdb.verify_audit() is None
    with pgdb.engine.begin() as c:  # the rules turn changes into nothing
        c.exec_driver_sql("UPDATE audit SET kind = 'x' WHERE seq = 2")
        c.exec_driver_sql("DELETE FROM audit WHERE seq = 3")
    assert [r.kind for r in pgdb.audit_records()] == ["login", "overlap", "publish"]
    with pgdb.engine.begin() as c:  # someone with the owner's rights drops the rules and edits a record
        c.exec_driver_sql("DROP RULE audit_no_update ON audit")
        c.exec_driver_sql("UPDATE audit SET user_name = 'wang' WHERE seq = 2")
    problem = pgdb.verify_audit()
    assert problem is not None and problem.startswith(f"record #2 ({ids[1]})")
