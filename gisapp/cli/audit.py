"""``gisapp audit log|verify``: read and check the audit trail (留痕) of the web app.

``audit log [--user U] [--since DATE] [--kind K] [--limit N] [--format table|json|csv]`` prints the
records (oldest first); ``audit verify`` recomputes the hash chain and exits 1 naming the first bad
record (see :mod:`gisapp.accounts.audit`).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import pandas as pd

from gisapp.accounts.audit import verify_chain
from gisapp.cli.support import write_output
from gisapp.cli.users import accounts_db
from gisapp.io.export import to_csv

CSV_COLUMNS = (
    "seq",
    "record_id",
    "time",
    "user_name",
    "address",
    "kind",
    "input_sha256",
    "parameters",
    "layers",
    "result",
    "prev_hash",
    "hash",
)


def cmd_audit_log(args: argparse.Namespace) -> int:
    """``gisapp audit log``: the records matching the filters (newest ``--limit`` of them when given)."""
    records = accounts_db(args, create=False).audit_records(args.user, args.since, args.kind, args.limit)
    if args.format == "json":
        write_output(json.dumps([r.to_dict() for r in records], ensure_ascii=False, indent=2), args.output)
    elif args.format == "csv":  # formulas neutralised: a failed login records whatever name was typed
        table = pd.DataFrame([[getattr(r, c) for c in CSV_COLUMNS] for r in records], columns=list(CSV_COLUMNS))
        write_output(to_csv(table, bom=args.bom), args.output)
    else:
        lines = [
            f"{r.seq:6d}  {r.record_id}  {r.time[:19]}  {r.user_name:12} {r.address:15} {r.kind:12} "
            f"{r.input_sha256[:12] or '-':12}  {r.result[:80]}"
            for r in records
        ]
        write_output("\n".join(lines) or "no records", args.output)
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """``gisapp audit verify``: exit 0 when the chain is intact, 1 naming the first bad record."""
    records = accounts_db(args, create=False).audit_records()  # read once: verified and counted
    problem = verify_chain(records)
    n = len(records)
    if problem:
        print(f"audit trail BROKEN: {problem}")
        return 1
    print(f"audit trail intact: {n} record(s)")
    return 0


def register(sub: Any) -> None:
    """Add ``audit log|verify`` to the ``gisapp`` sub-parsers."""
    group = sub.add_parser("audit", help="the audit trail: log, verify").add_subparsers(dest="audit_cmd", required=True)
    s = group.add_parser("log", help="print records (filters: --user, --since, --kind)")
    s.add_argument("--user")
    s.add_argument("--since", help="UTC date or time, ISO 8601 (e.g. 2026-12-01)")
    s.add_argument("--kind", help="login, overlap, accounting, export, figure, import, publish, rollback …")
    s.add_argument("--limit", type=int, help="only the newest N records")
    s.add_argument("--format", choices=["table", "json", "csv"], default="table")
    s.add_argument("--bom", action="store_true", help="CSV with a UTF-8 BOM (for Excel)")
    s.add_argument("-o", "--output")
    s.set_defaults(func=cmd_audit_log)
    s = group.add_parser("verify", help="check the hash chain (exit 1 naming the first bad record)")
    s.set_defaults(func=cmd_audit_verify)
    for parser in group.choices.values():
        parser.add_argument("--store", help="the layer store whose accounts database is used")


def record_cli(args: argparse.Namespace, kind: str, result: dict[str, Any], **parameters: Any) -> None:
    """Append a record for a store-changing command (``store rollback``, ``redline import``, ``towns replace``)
    when the store has an accounts database; the user is the operating-system account (``cli:<login>``)."""
    import getpass

    db = accounts_db(args, create=False)
    if db.exists:
        try:
            login = getpass.getuser()
        except (KeyError, OSError):
            login = "?"
        db.append_audit(user=f"cli:{login}", address="cli", kind=kind, parameters=parameters, result=result)
