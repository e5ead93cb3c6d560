"""The accounts database: users, passwords, API tokens, per-layer rules and the audit trail.

One :class:`AccountsDB` per app or CLI invocation (no module state). The URL is
``GISAPP_ACCOUNTS_DB``: a file path (SQLite) or any SQLAlchemy URL (``postgresql+psycopg://…``);
by default the SQLite file ``<store>.accounts.sqlite`` beside the layer store (:func:`default_url`).

Passwords are hashed with argon2id (argon2-cffi's :class:`~argon2.PasswordHasher` defaults, RFC 9106);
API tokens are 256-bit random strings of which only the SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from gisapp.accounts import schema
from gisapp.accounts.audit import GENESIS, AuditRecord, canonical_json, verify_chain
from gisapp.accounts.roles import Role, parse_role
from gisapp.core.errors import InputError

TOKEN_PREFIX = "gis_"
_HASHER = PasswordHasher()  # stateless parameters (argon2id, RFC 9106 low-memory profile); no mutable state


def default_url(layers_dir: Path) -> str:
    """The default accounts database: SQLite file ``<store name>.accounts.sqlite`` beside the store folder."""
    return f"sqlite:///{Path(layers_dir).parent / (Path(layers_dir).name + '.accounts.sqlite')}"


def database_url(value: str, layers_dir: Path) -> str:
    """The SQLAlchemy URL of ``GISAPP_ACCOUNTS_DB`` (empty: :func:`default_url`; a path: SQLite on that file;
    a libpq ``postgresql://…`` URI: PostgreSQL through psycopg 3).

    It is never taken from ``GISAPP_DATABASE_URL``: moving the accounts elsewhere silently would leave an
    empty database, i.e. a server without logins.
    """
    value = value.strip()
    if not value:
        return default_url(layers_dir)
    if value.startswith(("postgresql://", "postgres://")):  # a libpq URI (as GISAPP_DATABASE_URL): psycopg 3 driver
        return "postgresql+psycopg://" + value.split("://", 1)[1]
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL, else None."""
    u = sa.make_url(url)
    return Path(u.database) if u.get_backend_name() == "sqlite" and u.database else None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def token_digest(token: str) -> str:
    """The SHA-256 (hex) stored for an API token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class User:
    """An account: ``id``, ``name``, ``role`` (:class:`Role`), ``active``, ``created`` (UTC ISO 8601)."""

    id: int
    name: str
    role: Role
    active: bool
    created: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data (role as ``view``/``analyse``/``manage`` and its Chinese label)."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.key,
            "role_label": self.role.label,
            "active": self.active,
            "created": self.created,
        }


def _user(row: Any) -> User:
    return User(row.id, row.name, Role[row.role.upper()], bool(row.active), row.created)


class AccountsDB:
    """The accounts database at ``url`` (tables created on first use).

    Args:
        url: a SQLAlchemy URL (see :func:`database_url`).
        create: create the tables (and the SQLite file) when missing; when False and the SQLite
            file does not exist, :attr:`exists` is False and nothing is created.
    """

    def __init__(self, url: str, create: bool = True) -> None:
        self.url = url
        file = sqlite_file(url)
        self.exists = True
        if file is not None and not file.exists():
            if not create:
                self.exists = False
            else:
                file.parent.mkdir(parents=True, exist_ok=True)
        if file is not None:  # a new SQLite connection per use: nothing to share between forked workers
            self.engine: Engine = sa.create_engine(url, poolclass=NullPool)
        else:
            self.engine = sa.create_engine(url, pool_pre_ping=True)
            # gunicorn forks its workers after the app is created: a child must not reuse the parent's sockets
            os.register_at_fork(after_in_child=lambda: self.engine.dispose(close=False))
        if self.exists:
            schema.metadata.create_all(self.engine)

    def _require(self) -> None:
        if not self.exists:
            raise InputError(
                "no accounts database: add a user first (gisapp users add NAME --role …)", code="no_accounts"
            )

    # -- users ---------------------------------------------------------------------------------
    def has_users(self) -> bool:
        """True when at least one account exists, active or disabled (the app then requires a login: disabling
        the last account must not open the server to everyone)."""
        if not self.exists:
            return False
        with self.engine.connect() as c:
            return c.execute(sa.select(sa.func.count()).select_from(schema.users)).scalar_one() > 0

    def add_user(self, name: str, password: str, role: Role | str) -> User:
        """Create an account.

        Raises:
            InputError: ``invalid_user`` for an empty name or a password shorter than 8 characters,
                ``user_exists`` when the name is taken, ``unknown_role``.
        """
        self._require()
        role = role if isinstance(role, Role) else parse_role(role)
        name = name.strip()
        if not name or len(name) > 64:
            raise InputError("a user name must be 1–64 characters", code="invalid_user")
        if len(password) < 8:
            raise InputError("a password must have at least 8 characters", code="invalid_user")
        try:
            with self.engine.begin() as c:
                c.execute(
                    schema.users.insert().values(
                        name=name, password_hash=_HASHER.hash(password), role=role.key, active=True, created=_now()
                    )
                )
        except IntegrityError:
            raise InputError(f"user {name!r} already exists", code="user_exists", status=409) from None
        found = self.user(name)
        assert found is not None
        return found

    def user(self, name: str) -> User | None:
        """The account named ``name`` (active or not), or None."""
        if not self.exists:
            return None
        with self.engine.connect() as c:
            row = c.execute(sa.select(schema.users).where(schema.users.c.name == name)).first()
        return _user(row) if row else None

    def user_by_id(self, user_id: int) -> User | None:
        """The account with this id, or None."""
        with self.engine.connect() as c:
            row = c.execute(sa.select(schema.users).where(schema.users.c.id == user_id)).first()
        return _user(row) if row else None

    def users(self) -> list[User]:
        """Every account, by name."""
        if not self.exists:
            return []
        with self.engine.connect() as c:
            return [_user(r) for r in c.execute(sa.select(schema.users).order_by(schema.users.c.name))]

    def set_active(self, name: str, active: bool) -> User:
        """Disable (or re-enable) an account; a disabled account can neither log in nor use its tokens.

        Raises:
            InputError: ``unknown_user`` (404).
        """
        self._require()
        with self.engine.begin() as c:
            n = c.execute(schema.users.update().where(schema.users.c.name == name).values(active=active)).rowcount
        if not n:
            raise InputError(f"no user named {name!r}", code="unknown_user", status=404)
        found = self.user(name)
        assert found is not None
        return found

    def check_password(self, name: str, password: str) -> User | None:
        """The active account when ``password`` is its password (argon2id verify), else None."""
        if not self.exists:
            return None
        with self.engine.connect() as c:
            row = c.execute(sa.select(schema.users).where(schema.users.c.name == name)).first()
        if row is None or not row.active:
            _HASHER.hash(password)  # same work whether or not the user exists
            return None
        try:
            _HASHER.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return _user(row)

    # -- tokens --------------------------------------------------------------------------------
    def create_token(self, name: str, label: str = "") -> str:
        """A new API token for the user ``name``; the token itself is returned once and never stored.

        Raises:
            InputError: ``unknown_user`` (404).
        """
        user = self.user(name)
        if user is None:
            raise InputError(f"no user named {name!r}", code="unknown_user", status=404)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.engine.begin() as c:
            c.execute(
                schema.tokens.insert().values(
                    user_id=user.id, label=label, token_sha256=token_digest(token), created=_now(), revoked=False
                )
            )
        return token

    def token_user(self, token: str) -> User | None:
        """The active account an unrevoked token belongs to, else None."""
        if not self.exists or not token:
            return None
        t, u = schema.tokens, schema.users
        with self.engine.connect() as c:
            row = c.execute(
                sa.select(u)
                .join(t, t.c.user_id == u.c.id)
                .where(t.c.token_sha256 == token_digest(token), t.c.revoked.is_(False), u.c.active.is_(True))
            ).first()
        return _user(row) if row else None

    def revoke_tokens(self, name: str) -> int:
        """Revoke every token of the user ``name``; returns how many were revoked."""
        user = self.user(name)
        if user is None:
            raise InputError(f"no user named {name!r}", code="unknown_user", status=404)
        with self.engine.begin() as c:
            return int(
                c.execute(
                    schema.tokens.update()
                    .where(schema.tokens.c.user_id == user.id, schema.tokens.c.revoked.is_(False))
                    .values(revoked=True)
                ).rowcount
            )

    # -- layer rules ---------------------------------------------------------------------------
    def set_layer_rule(self, layer_id: str, min_role: Role | str | None) -> None:
        """Require ``min_role`` to list or read ``layer_id`` (None removes the rule)."""
        self._require()
        with self.engine.begin() as c:
            c.execute(schema.layer_rules.delete().where(schema.layer_rules.c.layer_id == layer_id))
            if min_role is not None:
                role = min_role if isinstance(min_role, Role) else parse_role(min_role)
                c.execute(schema.layer_rules.insert().values(layer_id=layer_id, min_role=role.key))

    def layer_rules(self) -> dict[str, Role]:
        """Layer id → the minimum role that may see it (layers without a rule: every role)."""
        if not self.exists:
            return {}
        with self.engine.connect() as c:
            return {r.layer_id: Role[r.min_role.upper()] for r in c.execute(sa.select(schema.layer_rules))}

    # -- secrets -------------------------------------------------------------------------------
    def secret(self, name: str) -> str:
        """A random secret stored once in the database (e.g. the session-signing key), shared by all processes."""
        self._require()
        with self.engine.connect() as c:
            found = c.execute(sa.select(schema.app_secrets.c.value).where(schema.app_secrets.c.name == name)).first()
        if found:
            return str(found[0])
        try:
            with self.engine.begin() as c:
                c.execute(schema.app_secrets.insert().values(name=name, value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another process stored it first
        return self.secret(name)

    # -- audit trail ---------------------------------------------------------------------------
    def append_audit(
        self,
        *,
        user: str,
        address: str,
        kind: str,
        input_sha256: str = "",
        parameters: dict[str, Any] | None = None,
        layers: dict[str, Any] | None = None,
        result: dict[str, Any] | None = None,
        record_id: str | None = None,
    ) -> AuditRecord:
        """Append one record to the trail (see :mod:`gisapp.accounts.audit`).

        Args:
            user: account name (or ``-`` for none); address: the client address; kind: e.g. ``overlap``.
            input_sha256: SHA-256 of the input (hex; empty when there is none).
            parameters, layers, result: JSON-serialisable dicts.
            record_id: a public id chosen beforehand (so a report can print it), else a new one.

        Returns:
            the stored record (with ``seq`` and ``hash``).
        """
        self._require()
        record_id = record_id or new_record_id()
        a = schema.audit
        for _attempt in range(20):
            with self.engine.connect() as c:
                last = c.execute(sa.select(a.c.seq, a.c.hash).order_by(a.c.seq.desc()).limit(1)).first()
            rec = AuditRecord(
                seq=(last.seq + 1) if last else 1,
                record_id=record_id,
                time=_now(),
                user_name=user,
                address=address,
                kind=kind,
                input_sha256=input_sha256,
                parameters=canonical_json(parameters or {}),
                layers=canonical_json(layers or {}),
                result=canonical_json(result or {}),
                prev_hash=last.hash if last else GENESIS,
            )
            rec.hash = rec.compute_hash()
            values = dict(rec.__dict__)
            try:
                with self.engine.begin() as c:
                    c.execute(a.insert().values(**values))
                return rec
            except IntegrityError:
                continue  # another writer extended the chain first: read the new tail and retry
        raise RuntimeError("could not append to the audit trail (too much contention)")

    def audit_records(
        self, user: str | None = None, since: str | None = None, kind: str | None = None, limit: int | None = None
    ) -> list[AuditRecord]:
        """Records in ``seq`` order, optionally filtered by user, time (``since``: ISO date or time, UTC) and kind;
        with ``limit``, the newest ``limit`` of them (still oldest first)."""
        if not self.exists:
            return []
        a = schema.audit
        q = sa.select(a)
        if user:
            q = q.where(a.c.user_name == user)
        if kind:
            q = q.where(a.c.kind == kind)
        if since:
            q = q.where(a.c.time >= since)
        q = q.order_by(a.c.seq.desc() if limit else a.c.seq)
        if limit:
            q = q.limit(limit)
        with self.engine.connect() as c:
            rows = [AuditRecord(**{k: getattr(r, k) for k in r._fields}) for r in c.execute(q)]
        return sorted(rows, key=lambda r: r.seq)

    def audit_record(self, record_id: str) -> AuditRecord | None:
        """The record with this public id, or None."""
        a = schema.audit
        with self.engine.connect() as c:
            r = c.execute(sa.select(a).where(a.c.record_id == record_id)).first()
        return AuditRecord(**{k: getattr(r, k) for k in r._fields}) if r else None

    def verify_audit(self) -> str | None:
        """Check the whole chain: None when intact, else the sentence naming the first bad record."""
        return verify_chain(self.audit_records())


def new_record_id() -> str:
    """A new public audit record id: ``A`` + UTC date + 8 random hex digits (e.g. ``A20261202-3f9c01ab``)."""
    return f"A{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"
