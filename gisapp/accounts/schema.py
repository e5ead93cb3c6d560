"""The accounts database tables (SQLAlchemy Core): the same schema on SQLite and PostgreSQL.

* ``users``      — name, argon2id password hash, role (``view``/``analyse``/``manage``), active flag;
* ``tokens``     — API tokens: only the SHA-256 of the token is stored, never the token;
* ``layer_rules``— per-layer minimum role (e.g. an official red line visible to 分析 and up);
* ``audit``      — the append-only, hash-chained trail (:mod:`gisapp.accounts.audit`); ``prev_hash``
  is unique, so two writers can never both extend the same record (the loser retries);
* ``app_secrets``— the session-signing key shared by every server process.

On SQLite, triggers refuse ``UPDATE`` and ``DELETE`` on ``audit``; on PostgreSQL the same is done by
rules. Tampering by someone with raw file access is still caught by ``gisapp audit verify``.
"""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created", String(40), nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("label", String(128), nullable=False, default=""),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created", String(40), nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)

layer_rules = Table(
    "layer_rules",
    metadata,
    Column("layer_id", String(128), primary_key=True),
    Column("min_role", String(16), nullable=False),
)

audit = Table(
    "audit",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("record_id", String(32), nullable=False, unique=True),
    Column("time", String(40), nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("input_sha256", String(64), nullable=False),
    Column("parameters", Text, nullable=False),
    Column("layers", Text, nullable=False),
    Column("result", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("hash", String(64), nullable=False),
)

app_secrets = Table(
    "app_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
)

for _op in ("UPDATE", "DELETE"):
    event.listen(
        audit,
        "after_create",
        DDL(
            f"CREATE TRIGGER audit_no_{_op.lower()} BEFORE {_op} ON audit "
            "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
        ).execute_if(dialect="sqlite"),
    )
    event.listen(
        audit,
        "after_create",
        DDL(f"CREATE RULE audit_no_{_op.lower()} AS ON {_op} TO audit DO INSTEAD NOTHING").execute_if(
            dialect="postgresql"
        ),
    )
