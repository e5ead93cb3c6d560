"""Tables of accounting results as rows and CSV (shared by the CLI and the web layer).

CSV is UTF-8 (optionally with a BOM so that Excel shows Chinese); list and dict cells are written
as JSON. On an illustrative control line every row carries a ``warning`` column saying so.
"""

from __future__ import annotations

import json
from typing import Any

from gisapp.core.errors import InputError

#: Tables of a report that can be written as CSV.
TABLES = ("units", "tiers", "zones", "rules", "unit-areas", "landuse-classes", "landuse-units")


def csv_text(rows: list[dict[str, Any]], bom: bool) -> str:
    """Rows as CSV (UTF-8, optional BOM); list/dict cells become JSON."""
    import pandas as pd

    from gisapp.io.export import to_csv

    flat = [
        {k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v for k, v in r.items()} for r in rows
    ]
    return to_csv(pd.DataFrame(flat), bom=bom)


def with_warning(r: dict[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with a ``warning`` column when the result ``r`` is on an illustrative line."""
    return [{**row, "warning": r["warning"]} for row in rows] if r.get("illustrative") else rows


def report_rows(r: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """The rows of one table of a report (``units``, ``tiers``, ``zones``, ``rules``, ``unit-areas``, ``landuse-*``).

    On an illustrative line every row carries a ``warning`` column saying so (CSV has no other place for it).
    """
    rows = _report_rows(r, table)
    if r.get("illustrative"):
        rows = [{**row, "warning": r["warning"]} for row in rows]
    return rows


def _report_rows(r: dict[str, Any], table: str) -> list[dict[str, Any]]:
    if table == "units":
        return [{k: v for k, v in row.items() if k != "tiers"} for row in r["by_unit"]]
    if table == "tiers":
        return r["tiers"]
    if table == "zones":
        return r["by_zone"]
    if table == "unit-areas":
        return r["unit_areas"]
    if table == "rules":
        return [
            {
                "id": x["id"],
                "verdict": x["verdict"],
                "verdict_zh": x["verdict_zh"],
                "title": x["title"],
                "value": x.get("value"),
                "comparison": x["comparison"],
                "threshold": x["threshold"],
                "unit": x["unit"],
                "document": x["citation"]["document"],
                "file": x["citation"]["file"],
                "line": x["citation"]["line"] or "",
                "quote": x["citation"]["quote"],
                "source_status": x["citation"]["status"],
            }
            for x in r["rules"]
        ]
    if r.get("landuse") is None:
        raise InputError(f"table '{table}' needs --landuse FILE --class-field F", code="missing_landuse")
    return r["landuse"]["by_class"] if table == "landuse-classes" else r["landuse"]["by_unit"]
