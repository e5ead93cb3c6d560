"""The audit trail's records and their hash chain (留痕).

Each record holds who (``user``), when (``time``, UTC ISO 8601 with microseconds), from where
(``address``), what kind (``login``, ``overlap``, ``accounting``, ``export``, ``import``, ``publish``,
``rollback`` …), what (``input_sha256`` of the request body, ``parameters``, ``layers``: the store
version and the layer checksums used) and the ``result`` summary, plus ``prev_hash`` (the hash of
the record before it; 64 zeros for the first) and ``hash``:

    hash = SHA-256( canonical JSON of every field above, record_id and seq included, and prev_hash )

Canonical JSON: keys sorted, no spaces, UTF-8 (``ensure_ascii=False``). Changing, removing or
reordering any stored record breaks the chain at that record; :func:`verify_chain` names it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """``value`` as canonical JSON text (sorted keys, no spaces, UTF-8 characters kept)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


@dataclass
class AuditRecord:
    """One record of the trail (see the module docstring for the fields).

    ``parameters``, ``layers`` and ``result`` are stored as canonical JSON text, so the hash of a
    stored record can be recomputed from the database alone.
    """

    seq: int
    record_id: str
    time: str
    user_name: str
    address: str
    kind: str
    input_sha256: str
    parameters: str
    layers: str
    result: str
    prev_hash: str
    hash: str = ""

    def compute_hash(self) -> str:
        """The SHA-256 (hex) of this record's content and ``prev_hash``."""
        body = {k: v for k, v in asdict(self).items() if k != "hash"}
        return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """The record as plain data, with ``parameters``, ``layers`` and ``result`` decoded from JSON."""
        out = asdict(self)
        for k in ("parameters", "layers", "result"):
            try:
                out[k] = json.loads(out[k])
            except ValueError:
                pass
        return out


def verify_chain(records: Iterable[AuditRecord]) -> str | None:
    """Check a trail read in ``seq`` order.

    Returns:
        None when every record's hash is right and links to the one before it; otherwise one
        sentence naming the first bad record (``record #seq (record_id)``) and what is wrong.
    """
    prev = GENESIS
    expected_seq: int | None = None
    for r in records:
        name = f"record #{r.seq} ({r.record_id})"
        if expected_seq is not None and r.seq != expected_seq:
            return f"{name}: records #{expected_seq}…#{r.seq - 1} are missing (deleted)"
        if r.prev_hash != prev:
            return (
                f"{name}: prev_hash does not match the hash of the record before it (a record was removed or altered)"
            )
        if r.compute_hash() != r.hash:
            return f"{name}: its content does not match its hash (the record was altered)"
        prev = r.hash
        expected_seq = r.seq + 1
    return None
