"""``gisapp users add|list|disable|enable|token|restrict``: accounts of the web app (see docs/operations.md).

The accounts database is ``GISAPP_ACCOUNTS_DB`` (default ``<store>.accounts.sqlite`` beside the layer
store). The first ``users add`` creates it; from then on the web app requires a login.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import TYPE_CHECKING, Any

from gisapp.cli.support import settings_of, write_output
from gisapp.core.errors import InputError

if TYPE_CHECKING:  # imported when a users/audit command runs (SQLAlchemy, argon2), not for every gisapp command
    from gisapp.accounts.accountsdb import AccountsDB


def accounts_db(args: argparse.Namespace, create: bool = True) -> AccountsDB:
    """The :class:`~gisapp.accounts.accountsdb.AccountsDB` of this invocation (``--store`` / settings)."""
    from gisapp.accounts.accountsdb import AccountsDB, database_url

    settings = settings_of(args)
    return AccountsDB(database_url(settings.accounts_db, settings.layers_dir), create=create)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise InputError("no terminal for the password: pipe it with --password-stdin", code="missing_password")
    first = getpass.getpass("密码 Password: ")
    if first != getpass.getpass("再次输入 Again: "):
        raise InputError("the two passwords differ", code="invalid_user")
    return first


def cmd_users_add(args: argparse.Namespace) -> int:
    """``gisapp users add NAME --role view|analyse|manage [--password-stdin]``: create an account."""
    user = accounts_db(args).add_user(args.name, _password(args), args.role)
    print(f"user {user.name} added with role {user.role.key} ({user.role.label})")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    """``gisapp users list [--json]``: every account with role and state, and the layer rules."""
    db = accounts_db(args, create=False)
    users = [u.to_dict() for u in db.users()]
    rules = {k: v.key for k, v in db.layer_rules().items()}
    if args.json:
        write_output(json.dumps({"users": users, "layer_rules": rules}, ensure_ascii=False, indent=2), None)
        return 0
    lines = [
        f"{u['name']:20} {u['role']:8} {u['role_label']}  {'active' if u['active'] else 'DISABLED'}" for u in users
    ]
    lines += [f"layer {k}: {v} and up" for k, v in sorted(rules.items())]
    write_output("\n".join(lines) or "no accounts (single-user mode)", None)
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    """``gisapp users disable NAME``: the account can no longer log in nor use its tokens."""
    accounts_db(args, create=False).set_active(args.name, False)
    print(f"user {args.name} disabled")
    return 0


def cmd_users_enable(args: argparse.Namespace) -> int:
    """``gisapp users enable NAME``: re-enable a disabled account."""
    accounts_db(args, create=False).set_active(args.name, True)
    print(f"user {args.name} enabled")
    return 0


def cmd_users_token(args: argparse.Namespace) -> int:
    """``gisapp users token NAME [--label L] [--revoke]``: print a new API token (shown once), or revoke all."""
    db = accounts_db(args, create=False)
    if args.revoke:
        print(f"{db.revoke_tokens(args.name)} token(s) of {args.name} revoked")
        return 0
    print(db.create_token(args.name, args.label or ""))
    return 0


def cmd_users_restrict(args: argparse.Namespace) -> int:
    """``gisapp users restrict LAYER ROLE|none``: only ROLE and up may list and read LAYER."""
    db = accounts_db(args)
    db.set_layer_rule(args.layer, None if args.role == "none" else args.role)
    print(f"layer {args.layer}: " + ("visible to every role" if args.role == "none" else f"{args.role} and up"))
    return 0


def register(sub: Any) -> None:
    """Add ``users add|list|disable|enable|token|restrict`` to the ``gisapp`` sub-parsers."""
    group = sub.add_parser("users", help="accounts of the web app: add, list, disable, tokens").add_subparsers(
        dest="users_cmd", required=True
    )
    store_help = "the layer store whose accounts database is used (default: $GISAPP_LAYERS_DIR or layers/)"
    s = group.add_parser("add", help="create an account")
    s.add_argument("name")
    s.add_argument("--role", required=True, help="view/浏览, analyse/分析 or manage/管理")
    s.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    s.set_defaults(func=cmd_users_add)
    s = group.add_parser("list", help="accounts and layer rules")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_users_list)
    for name, func, text in (
        ("disable", cmd_users_disable, "disable an account (login and tokens)"),
        ("enable", cmd_users_enable, "re-enable an account"),
    ):
        s = group.add_parser(name, help=text)
        s.add_argument("name")
        s.set_defaults(func=func)
    s = group.add_parser("token", help="print a new API token for scripts, GDAL and QGIS (or --revoke all)")
    s.add_argument("name")
    s.add_argument("--label", help="what the token is for (e.g. qgis-office)")
    s.add_argument("--revoke", action="store_true", help="revoke every token of the user")
    s.set_defaults(func=cmd_users_token)
    s = group.add_parser("restrict", help="make a layer visible only to a role and up")
    s.add_argument("layer")
    s.add_argument("role", help="view, analyse, manage (or 浏览/分析/管理), or none to lift the rule")
    s.set_defaults(func=cmd_users_restrict)
    for parser in group.choices.values():
        parser.add_argument("--store", help=store_help)
