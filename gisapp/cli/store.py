"""``gisapp store status|history|rollback|init``: the versions of the layer store (see docs/store.md)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from gisapp.cli.support import settings_of, write_output


def _store(args: argparse.Namespace):
    from gisapp.store.storetxn import VersionedStore

    return VersionedStore(settings_of(args).layers_dir)


def cmd_store_status(args: argparse.Namespace) -> int:
    """``gisapp store status [--json]``: current version, previous versions kept, consistency.

    Finishes an interrupted switch and removes stale temp files first (unless a writer runs).
    Exit 0 when the files on disk are exactly the current version, 1 otherwise.
    """
    store = _store(args)
    repairs = store.recover()
    manifest = store.manifest()
    problems = store.verify()
    status: dict[str, Any] = {
        "store": store.directory.name,
        "version": manifest.version if manifest else None,
        "time": manifest.time if manifest else None,
        "command": manifest.command if manifest else None,
        "layers": len(manifest.layers) if manifest else 0,
        "previous_versions": store.saved_versions(),
        "repairs": repairs,
        "consistent": not problems,
        "problems": problems,
    }
    if args.json:
        write_output(json.dumps(status, ensure_ascii=False, indent=2), None)
    else:
        lines = [f"repaired: {r}" for r in repairs]
        if manifest:
            lines.append(
                f"version {manifest.version}  {manifest.time}  {manifest.command}  ({len(manifest.layers)} layers)"
            )
        lines.append(f"previous versions kept: {', '.join(map(str, status['previous_versions'])) or 'none'}")
        lines += [f"PROBLEM: {p}" for p in problems]
        lines.append("consistent" if not problems else f"INCONSISTENT: {len(problems)} problem(s)")
        write_output("\n".join(lines), None)
    return 0 if not problems else 1


def cmd_store_history(args: argparse.Namespace) -> int:
    """``gisapp store history [--json]``: every kept version, newest first: time, command, layers changed."""
    history = _store(args).history()
    if args.json:
        write_output(json.dumps([asdict(m) for m in history], ensure_ascii=False, indent=2), None)
        return 0
    lines = []
    for i, m in enumerate(history):
        mark = "*" if i == 0 else " "
        lines.append(f"{mark} {m.version:4d}  {m.time}  {m.command}  changed: {', '.join(m.changed) or '-'}")
    write_output("\n".join(lines) or "unversioned store: no history", None)
    return 0


def cmd_store_rollback(args: argparse.Namespace) -> int:
    """``gisapp store rollback``: restore the previous version in one step (the current one is discarded).

    Exit 2 (nothing written) when no previous version is kept.
    """
    store = _store(args)
    before = store.manifest()
    now = store.rollback()
    print(f"store: rolled back from version {before.version if before else '?'} to version {now.version}")
    from gisapp.cli.audit import record_cli

    record_cli(args, "rollback", {"from_version": before.version if before else None, "to_version": now.version})
    return 0


def cmd_store_init(args: argparse.Namespace) -> int:
    """``gisapp store init``: record the layers of an unversioned store as version 1 (exit 2 if versioned)."""
    m = _store(args).init()
    print(f"store: version {m.version} with {len(m.layers)} layers")
    return 0


def register(sub: Any) -> None:
    """Add ``store status|history|rollback|init`` to the ``gisapp`` sub-parsers."""
    group = sub.add_parser("store", help="versions of the layer store: status, history, rollback").add_subparsers(
        dest="store_cmd", required=True
    )
    store_help = "the layer store (default: $GISAPP_LAYERS_DIR or layers/)"
    for name, func, text in (
        ("status", cmd_store_status, "current version and consistency (exit 1 on a mixed state)"),
        ("history", cmd_store_history, "versions kept: time, command, layers changed"),
        ("rollback", cmd_store_rollback, "restore the previous version"),
        ("init", cmd_store_init, "start versioning an unversioned store"),
    ):
        s = group.add_parser(name, help=text)
        s.add_argument("--store", help=store_help)
        if name in ("status", "history"):
            s.add_argument("--json", action="store_true")
        s.set_defaults(func=func)
