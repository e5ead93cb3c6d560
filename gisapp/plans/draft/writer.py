"""Write a drafted zone file: YAML that validates, every element ``status: draft`` with its evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gisapp.store.storetxn import atomic_write_bytes

HEADER = """\
# DRAFT drafted by `gisapp plan draft` from {plan}: every element is `status: draft` until a person
# accepts or rejects it (`gisapp plan review {name}` or /plans/review?file={name}); `gisapp validate`
# and `gisapp build` refuse the file until then. Every `sentence` is quoted from the plan, beginning on
# `plan_line`; `geometry.basis_note` says which rule proposed the geometry.
# yaml-language-server: $schema=../docs/schemas/zones.schema.json
"""
REVIEWED = """\
# Drafted by `gisapp plan draft` from {plan} and reviewed (`gisapp plan review {name}`): every element is
# `status: accepted` or `rejected` (rejected ones are not drawn). Every `sentence` is quoted from the plan,
# beginning on `plan_line`; `geometry.basis_note` says how the geometry was proposed or chosen.
# yaml-language-server: $schema=../docs/schemas/zones.schema.json
"""


def dump_definition(data: dict[str, Any]) -> str:
    """A zone-file mapping as YAML text (keys in the order given, Unicode as is)."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)


def write_draft(data: dict[str, Any], path: Path) -> None:
    """Write a drafted zone file (with the draft header) to ``path``, atomically.

    Args:
        data: the zone-file mapping (see :func:`gisapp.plans.draft.pipeline.draft_plan`).
        path: the output ``.yaml``.
    """
    drafts = sum(1 for el in data.get("elements", []) if isinstance(el, dict) and el.get("status") == "draft")
    header = HEADER if drafts else REVIEWED
    text = header.format(plan=data.get("plan", "?"), name=path.name) + dump_definition(data)
    atomic_write_bytes(path, text.encode("utf-8"))  # a unique temporary name: two saves never share one
