"""The JSON Schemas of the data files users write (zone files, rule sets), as exported to ``docs/schemas/``.

``gisapp schema export [--out DIR]`` writes them; ``tests/test_schemas.py`` fails when the copies in
``docs/schemas/`` differ from what the models give. ``docs/schemas/README.md`` shows how an editor
uses them to check YAML as it is typed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gisapp.analysis.accounting.ruleschema import ruleset_json_schema
from gisapp.plans.zoneschema import definition_json_schema

#: File name → the function giving its schema.
SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "zones.schema.json": definition_json_schema,
    "rules.schema.json": ruleset_json_schema,
}
#: Where the exported schemas are kept in the repository.
DOCS_DIR = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def schema_text(name: str) -> str:
    """The schema ``name`` (a key of :data:`SCHEMAS`) as the exported file's text (UTF-8 JSON, 2-space indent)."""
    return json.dumps(SCHEMAS[name](), ensure_ascii=False, indent=2) + "\n"


def export_schemas(directory: Path = DOCS_DIR) -> list[Path]:
    """Write every schema of :data:`SCHEMAS` into ``directory`` (created if missing).

    Returns:
        the paths written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name in SCHEMAS:
        path = directory / name
        path.write_text(schema_text(name), "utf-8")
        out.append(path)
    return out
