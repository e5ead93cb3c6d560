"""The schema of zone files (``zones/*.yaml``): pydantic models, the checks they make, their JSON Schema.

:func:`parse_definition` reads one file and validates it against :class:`Definition`; a file that
does not conform raises :class:`DefinitionError` naming the file, the element (or inventory list,
or figure) and the key. The geometry of an element is validated against the parameter model of its
``method`` in :data:`gisapp.plans.geomethods.GEOMETRY_METHODS` (one registry for validation and drawing).
:func:`definition_json_schema` is what ``docs/schemas/zones.schema.json`` holds
(``gisapp schema export``; editors use it to check the YAML as it is typed).

Checks the schema cannot make (towns, districts and places that exist; geometry that can be drawn)
are made when the file is compiled (:func:`gisapp.plans.structures.compile_structure`).
"""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from gisapp.core.errors import InputError
from gisapp.plans.geomethods import GEOMETRY_METHODS, GeometryParams

#: Element roles and their Chinese names.
ROLES_ZH: dict[str, str] = {
    "core": "核心",
    "axis": "轴",
    "corridor": "廊",
    "belt": "带",
    "zone": "区",
    "node": "节点",
    "platform": "平台",
}
LAYER_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"

Role = Literal["core", "axis", "corridor", "belt", "zone", "node", "platform"]
#: Review status of an element: ``draft`` (written by ``gisapp plan draft``, not yet reviewed), ``accepted``
#: (the default: every hand-written element) or ``rejected`` (reviewed and left out of the layer).
Status = Literal["draft", "accepted", "rejected"]
#: The ``geometry`` of an element: one parameter model per registered method, chosen by ``method``.
#: (The type checker cannot follow a Union built at import time; it sees the models' common base.)
if TYPE_CHECKING:
    Geometry = GeometryParams
else:
    Geometry = Annotated[
        Union[tuple(m.params for m in GEOMETRY_METHODS.values())],  # noqa: UP007 - a Union built from the registry
        Field(discriminator="method"),
    ]
Text = Annotated[str, Field(min_length=1)]


class DefinitionError(InputError):
    """A zone definition file that cannot be compiled (names the file and the element; HTTP 422)."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path.name}: {message}", code="invalid_zone_definition", status=422)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Element(_Strict):
    """One element the plan names (a core, axis, zone, node …) and how to draw it."""

    id: Text = Field(description="unique within the file; the feature id is '<file id>-<id>'")
    name: Text = Field(description="the element's name in the plan's words")
    role: Role
    section: Text = Field(description="the plan section that names it")
    sentence: Text = Field(description="the plan's sentence, verbatim, beginning on plan_line")
    geometry: Geometry
    plan_line: int = Field(0, ge=0, description="1-based line of the plan text where the sentence begins")
    name_en: str = ""
    group: str | None = Field(None, description="the group shown in the legend (default: the structure)")
    plan_names: list[str] = Field(default_factory=list, description="other names the plan's lists use for it")
    outside_city: str | None = Field(None, description="why the element may lie outside the city (validate)")
    status: Status = Field(
        "accepted", description="review status: draft (not reviewed; validate and build refuse it), accepted, rejected"
    )


class InventoryList(_Strict):
    """A list the plan gives (checked against the plan text and the elements by ``gisapp validate``)."""

    list: Text
    section: Text
    lines: tuple[int, int] = Field(description="[first, last] lines of the plan text holding the list")
    # ``builtins.list``: the field ``list`` above shadows the builtin inside this class
    items: Annotated[builtins.list[str], Field(min_length=1)]
    split: bool = Field(False, description="the list must equal the plan's own list, item for item")
    drop: builtins.list[str] = Field(
        default_factory=builtins.list, description="regular expressions removed before splitting"
    )


class Figure(_Strict):
    """A figure the plan states about elements, compared with the drawn geometry."""

    id: Text
    elements: Annotated[list[str], Field(min_length=1)]
    stated_area_km2: float = Field(gt=0)
    tolerance_pct: float = Field(ge=0)
    plan_line: int = Field(ge=1)
    sentence: Text
    name: str | None = None
    comparable: bool = True
    note: str = ""


class Definition(_Strict):
    """One zone file: a plan's spatial structure (see ``docs/structures.md``)."""

    id: Annotated[str, Field(pattern=LAYER_ID_PATTERN)] = Field(description="the layer id")
    plan: Text = Field(description="the plan text's file name (../shared/plans/)")
    structure: Text = Field(description="the structure's name in the plan's words")
    section: Text
    elements: list[Element]
    city: Text = Field(description="the city bounding the features (a unit of the city layer, e.g. 中山市)")
    plan_title: str = ""
    structure_en: str = ""
    related_layers: list[Annotated[str, Field(pattern=LAYER_ID_PATTERN)]] = Field(
        default_factory=list,
        description="other layers that belong to this plan's view and figure (e.g. its control line)",
    )
    inventory: list[InventoryList] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> Definition:
        seen: set[str] = set()
        for el in self.elements:
            if el.id in seen:
                raise PydanticCustomError("duplicate_id", "element id '{id}' is used twice", {"id": el.id})
            seen.add(el.id)
        return self


def definition_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a zone file, as exported to ``docs/schemas/zones.schema.json``."""
    schema = Definition.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "zones.schema.json",
        **schema,
        "title": "gisapp zone file (zones/*.yaml)",
    }


def _label(raw: Any, key: str, i: int, fallback_key: str) -> str:
    items = raw.get(key) if isinstance(raw, dict) else None
    entry = items[i] if isinstance(items, list) and i < len(items) else None
    return str(entry.get(fallback_key, f"#{i + 1}")) if isinstance(entry, dict) else f"#{i + 1}"


def _message(raw: Any, err: Any) -> str:
    """One pydantic error as a sentence naming the element / list / figure and the key."""
    loc, kind, msg = tuple(err["loc"]), err["type"], err["msg"]
    if not loc:
        return "the file must hold a mapping" if kind == "model_type" else msg
    key = loc[-1]
    if loc[0] == "elements" and len(loc) >= 3 and isinstance(loc[1], int):
        where = f"element '{_label(raw, 'elements', loc[1], 'id')}'"
        if len(loc) == 3 and kind == "missing":
            return f"{where} lacks '{key}'"
        if loc[2] == "role" and kind == "literal_error":
            return f"{where} has unknown role '{err['input']}'"
        if loc[2] == "geometry" and len(loc) == 3 and kind in ("union_tag_invalid", "union_tag_not_found"):
            return f"{where} has unknown geometry method '{(err.get('ctx') or {}).get('tag')}'"
        if loc[2] == "geometry" and len(loc) >= 5:
            method, rest = loc[3], ".".join(str(x) for x in loc[4:])
            if kind == "missing":
                return f"{where}: method '{method}' needs '{rest}'"
            if key == "basis" and kind == "literal_error":
                return f"{where} has unknown basis '{err['input']}'"
            if kind == "extra_forbidden":
                return f"{where}: method '{method}' takes no '{rest}'"
            return f"{where}: geometry '{rest}': {msg}"
        rest = ".".join(str(x) for x in loc[2:])
        return f"{where}: unknown key '{rest}'" if kind == "extra_forbidden" else f"{where}: '{rest}': {msg}"
    if loc[0] in ("inventory", "figures") and len(loc) >= 2 and isinstance(loc[1], int):
        noun, by = ("inventory list", "list") if loc[0] == "inventory" else ("figure", "id")
        where = f"{noun} '{_label(raw, loc[0], loc[1], by)}'"
        if len(loc) == 2:
            return f"{where} must be a mapping"
        if len(loc) == 3 and kind == "missing":
            return f"{where} lacks '{key}'"
        if loc[2] == "lines":
            return f"{where}: 'lines' must be [first, last]"
        if loc[2] == "items" and kind == "too_short":
            return f"{where} has no items"
        rest = ".".join(str(x) for x in loc[2:])
        return f"{where}: unknown key '{rest}'" if kind == "extra_forbidden" else f"{where}: '{rest}': {msg}"
    dotted = ".".join(str(x) for x in loc)
    if len(loc) == 1 and kind == "missing":
        return f"missing key '{key}'"
    if len(loc) == 1 and kind == "extra_forbidden":
        return f"unknown key '{key}'"
    return f"'{dotted}': {msg}"


def parse_definition(path: Path) -> tuple[dict[str, Any], Definition]:
    """Read one zone file and validate it.

    Args:
        path: a YAML zone file.

    Returns:
        ``(data, definition)``: the file as read (a dict) and as the validated :class:`Definition`.

    Raises:
        DefinitionError: unreadable YAML, or the first schema violation (missing or unknown keys,
            unknown roles, methods or bases, a method without the keys it needs, duplicate element
            ids, malformed ``inventory`` or ``figures``), naming the file, the element and the key.
    """
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except yaml.YAMLError as exc:
        raise DefinitionError(path, f"not valid YAML: {exc}") from exc
    try:
        return data, Definition.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(path, _message(data, exc.errors()[0])) from None


class DraftElementsError(InputError):
    """A zone file that still holds elements ``status: draft`` (``gisapp validate``/``build`` refuse it; HTTP 422)."""

    def __init__(self, path: Path, ids: list[str]) -> None:
        more = f" and {len(ids) - 3} more" if len(ids) > 3 else ""
        super().__init__(
            f"{path.name}: {len(ids)} element(s) still 'status: draft' ({', '.join(ids[:3])}{more}); "
            f"review them first (gisapp plan review {path.name})",
            code="draft_elements",
            status=422,
        )


def draft_element_ids(data: Any) -> list[str]:
    """The ids of a zone file's elements whose ``status`` is ``draft`` (reads the raw mapping, before validation)."""
    elements = data.get("elements") if isinstance(data, dict) else None
    if not isinstance(elements, list):
        return []
    return [
        str(e.get("id", f"#{i + 1}"))
        for i, e in enumerate(elements)
        if isinstance(e, dict) and e.get("status") == "draft"
    ]


def refuse_drafts(paths: list[Path]) -> None:
    """Raise for the first zone file that still holds drafted elements.

    Raises:
        DraftElementsError: naming the file, the count and the first ids.
    """
    for path in paths:
        try:
            data = yaml.safe_load(path.read_text("utf-8"))
        except (OSError, yaml.YAMLError):
            continue  # parse_definition reports it with its own message
        ids = draft_element_ids(data)
        if ids:
            raise DraftElementsError(path, ids)


def plan_cities(files: list[Path]) -> list[str]:
    """The cities the zone files name (``city``), sorted, without duplicates.

    Raises:
        DefinitionError: when a file is malformed.
    """
    return sorted({parse_definition(p)[1].city for p in files})
