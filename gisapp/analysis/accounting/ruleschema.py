"""The schema of rule-set files (``rules/*.yaml``): pydantic models, their checks and their JSON Schema.

:func:`parse_ruleset` validates a file's contents against :class:`RuleSetFile`; a file that does not
conform raises :class:`RuleSetError` naming the file, the rule and the key. Each rule kind has its
own model (chosen by ``kind``); :data:`RULE_MODELS` lists them and :data:`gisapp.analysis.accounting.rules.RULE_KINDS`
pairs each with its evaluator. :func:`ruleset_json_schema` is what ``docs/schemas/rules.schema.json``
holds (``gisapp schema export``).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from gisapp.core.errors import InputError

RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
LANDUSE_MEASURES = ("industrial_coverage_per_unit", "industrial_share_per_block", "industrial_share_of_line")
CITATION_STATUSES = ("verified", "secondary", "unverified")
COMPARISON_OPS = (">=", ">", "<=", "<")
AREA_UNITS = ("km2", "ha", "mu", "m2")
#: What an ``overlap`` rule measures on one parcel: the area it shares with the line (m², % of the
#: parcel) or the area it has outside the line (m², %).
OVERLAP_MEASURES = ("overlap_m2", "overlap_pct", "outside_m2", "outside_pct")
#: Outcomes of an ``overlap`` rule, most severe first: 不予通过, 需论证, 需说明, 符合.
OVERLAP_OUTCOMES = ("reject", "review", "explain", "comply")


def _text(value: Any) -> Any:
    """YAML scalars that are text to us (a date such as 2020-11-12, a code such as 1001) as strings."""
    return str(value) if isinstance(value, int | float | datetime.date) and not isinstance(value, bool) else value


Scalar = Annotated[str, BeforeValidator(_text)]
Text = Annotated[str, BeforeValidator(_text), Field(min_length=1)]
Number = Annotated[float, Field(strict=True)]
Comparison = Literal[">=", ">", "<=", "<"]
AreaUnit = Literal["km2", "ha", "mu", "m2"]


class RuleSetError(InputError):
    """A rule-set file that cannot be used (names the file and the rule; HTTP 422)."""

    def __init__(self, path: Path | str, message: str) -> None:
        name = path.name if isinstance(path, Path) else path
        super().__init__(f"{name}: {message}", code="invalid_rule_set", status=422)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where a rule comes from (see :class:`gisapp.analysis.accounting.rules.Citation`)."""

    document: Text
    quote: Text = Field(description="the sentence, verbatim")
    file: Scalar = Field("", description="a plan file in ../shared/plans/ when the document is one")
    line: int = Field(0, ge=0, description="the line of 'file' holding the quote")
    section: Scalar = ""
    issuer: Scalar = ""
    date: Scalar = ""
    url: Scalar = ""
    status: Literal["verified", "secondary", "unverified"] = "unverified"
    note: Scalar = ""

    @model_validator(mode="after")
    def _line_of_plan_file(self) -> Source:
        if self.file and not self.line:
            raise PydanticCustomError("file_without_line", "a source in a plan file needs its 'line'")
        return self


class _Rule(_Strict):
    id: Annotated[str, Field(pattern=RULE_ID_PATTERN)] = Field(description="lower-case words joined by '-'")
    title: Text
    title_en: Scalar = ""
    comparison: Comparison = ">="
    threshold: Number
    source: Source
    period: Scalar = Field("", description="the period the target covers (e.g. 未来五年, 每年)")
    note: Scalar = ""


class FloorRule(_Rule):
    """The line's area (one ``tier`` or all of it) compared with ``threshold`` ``unit``, measured from the layer."""

    kind: Literal["floor"]
    unit: AreaUnit
    tier: Scalar = Field("", description="only this tier ('' = the whole line)")


class ProgressRule(_Rule):
    """A quantity the user reports (``metric``) against a target."""

    kind: Literal["progress"]
    unit: AreaUnit
    metric: Text


class ReportedShareRule(_Rule):
    """``numerator / denominator`` reported by the user, in %."""

    kind: Literal["reported_share"]
    unit: Literal["pct"]
    numerator: Text
    denominator: Text


class LanduseShareRule(_Rule):
    """A share computed from a land-use layer (``measure``), in %."""

    kind: Literal["landuse_share"]
    unit: Literal["pct"]
    measure: Literal["industrial_coverage_per_unit", "industrial_share_per_block", "industrial_share_of_line"]


class OverlapRule(_Rule):
    """A parcel rule of the overlap check (压覆/选址): when ``measure`` of a parcel compares to
    ``threshold``, the line gives the parcel ``outcome`` (judged per parcel by
    :mod:`gisapp.analysis.overlap.verdicts`, not by the accounting)."""

    kind: Literal["overlap"]
    measure: Literal["overlap_m2", "overlap_pct", "outside_m2", "outside_pct"]
    unit: Literal["m2", "pct"]
    outcome: Literal["reject", "review", "explain", "comply"]

    @model_validator(mode="after")
    def _unit_of_measure(self) -> OverlapRule:
        if self.measure.rsplit("_", 1)[1] != self.unit:
            raise PydanticCustomError(
                "unit_of_measure",
                "the unit of measure '{m}' is '{u}'",
                {"m": self.measure, "u": self.measure.rsplit("_", 1)[1]},
            )
        return self


#: The model of each rule kind, by ``kind``.
RULE_MODELS: dict[str, type[_Rule]] = {
    "floor": FloorRule,
    "progress": ProgressRule,
    "reported_share": ReportedShareRule,
    "landuse_share": LanduseShareRule,
    "overlap": OverlapRule,
}
#: One rule, its model chosen by ``kind``. (The type checker cannot follow a Union built at import time; it
#: sees the models' common base.)
if TYPE_CHECKING:
    RuleSpec = _Rule
else:
    RuleSpec = Annotated[
        Union[tuple(RULE_MODELS.values())],  # noqa: UP007 - a Union built from the kinds' models
        Field(discriminator="kind"),
    ]


class ControlLine(_Strict):
    """The layer holding the control line and its block-id and tier columns."""

    layer: Text
    id_field: Scalar = "block_id"
    tier_field: Scalar = "tier"
    tiers: list[Scalar] = Field(default_factory=list)
    tier_note: Scalar = ""


class Units(_Strict):
    """The accounting units (e.g. 镇街 of ``zs-towns``; 区 of ``base-district`` filtered by city)."""

    layer: Text
    name_field: Scalar = "name"
    filter: dict[str, Any] = Field(default_factory=dict, description="keep rows whose columns equal these values")
    label: Scalar = "单元"
    label_en: Scalar = "unit"


class Status(_Strict):
    """Colour status: a total within ``margin_pct`` % above the floor is 'near the floor'."""

    margin_pct: Number = 5.0


class DictionaryClasses(_Strict):
    """The classes of one land-use dictionary that count as industrial land."""

    codes: list[Scalar] = Field(default_factory=list, description="code prefixes")
    names: list[Scalar] = Field(default_factory=list, description="class names")


class Industrial(_Strict):
    """The 'industrial land' predicate."""

    by_dictionary: dict[str, DictionaryClasses] = Field(default_factory=dict)
    note: Scalar = ""
    source: Source | None = None


class Landuse(_Strict):
    """The default land-use dictionary and the industrial predicate."""

    dictionary: Scalar = ""
    industrial: Industrial = Field(default_factory=Industrial)


class RuleSetFile(_Strict):
    """One rule-set file: a city's control line and its rules (see ``docs/accounting.md``)."""

    id: Text
    city: Text
    city_en: Scalar = ""
    title: Text
    title_en: Scalar = ""
    control_line: ControlLine
    units: Units
    structure: Scalar = Field("", description="structure layer id for the per-zone table ('' for none)")
    verdict_area: Literal["ellipsoidal", "planar"] = "ellipsoidal"
    status: Status = Field(default_factory=Status)
    landuse: Landuse = Field(default_factory=Landuse)
    rules: list[RuleSpec]
    notes: list[Scalar] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleSetFile:
        seen: set[str] = set()
        for i, r in enumerate(self.rules):
            if r.id in seen:
                raise PydanticCustomError("duplicate_id", "rule '{id}': ids must be unique", {"id": r.id, "i": i})
            seen.add(r.id)
        return self


def ruleset_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a rule-set file, as exported to ``docs/schemas/rules.schema.json``."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "rules.schema.json",
        **RuleSetFile.model_json_schema(),
        "title": "gisapp rule set (rules/*.yaml)",
    }


def _rule_message(raw: Any, loc: tuple[Any, ...], err: ErrorDetails) -> str:
    items = raw.get("rules") if isinstance(raw, dict) else None
    entry = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
    if not isinstance(entry, dict):
        return "every rule must be a mapping"
    where = f"rule '{entry.get('id', f'#{loc[1] + 1}')}'"
    kind, key = err["type"], loc[-1]
    if len(loc) == 2:
        if kind == "union_tag_invalid":
            return f"{where}: unknown kind '{entry.get('kind')}' (use {', '.join(RULE_MODELS)})"
        if kind == "union_tag_not_found":
            return f"{where} lacks 'kind'"
        return f"{where}: {err['msg']}"
    field = loc[3] if len(loc) > 3 else key
    if field == "id" and kind == "string_pattern_mismatch":
        return f"{where}: ids must be unique lower-case words joined by '-'"
    if field == "source" and (len(loc) == 4 or kind == "missing"):
        if kind in ("missing", "model_type"):
            return f"{where} needs a 'source' mapping (document, quote, …)"
        if kind == "file_without_line":
            return f"{where}: a source in a plan file needs its 'line'"
    if field == "source" and key == "status":
        return f"{where}: source status must be one of {', '.join(CITATION_STATUSES)}"
    if field == "source" and kind == "missing":
        return f"{where} source lacks '{key}'"
    if kind == "missing" and len(loc) == 4:
        return f"{where} lacks '{key}'"
    if field == "comparison":
        return f"{where}: comparison must be one of {', '.join(COMPARISON_OPS)}"
    if field == "unit" and loc[2] == "overlap":
        return f"{where}: an overlap rule's unit is 'm2' or 'pct'"
    if field == "unit":
        return (
            f"{where}: a share's unit is 'pct'"
            if loc[2] in ("reported_share", "landuse_share")
            else (f"{where}: unit must be one of {', '.join(AREA_UNITS)}")
        )
    if field == "measure":
        measures = OVERLAP_MEASURES if loc[2] == "overlap" else LANDUSE_MEASURES
        return f"{where}: measure must be one of {', '.join(measures)}"
    if field == "outcome":
        return f"{where}: outcome must be one of {', '.join(OVERLAP_OUTCOMES)}"
    if kind == "unit_of_measure":
        return f"{where}: {err['msg']}"
    if field == "threshold":
        return f"{where} threshold must be a number, not {err['input']!r}"
    if kind == "extra_forbidden":
        return f"{where}: a {loc[2]} rule takes no '{'.'.join(str(x) for x in loc[3:])}'"
    return f"{where}: '{'.'.join(str(x) for x in loc[3:])}': {err['msg']}"


def _message(raw: Any, err: ErrorDetails) -> str:
    """One pydantic error as a sentence naming the rule (or section) and the key."""
    loc, kind = tuple(err["loc"]), err["type"]
    if not loc:
        if kind == "model_type":
            return "the file must hold a mapping"
        if kind == "duplicate_id":
            return f"rule '{err['ctx']['id']}': ids must be unique lower-case words joined by '-'"
        return str(err["msg"])
    if loc[0] == "rules" and len(loc) >= 2 and isinstance(loc[1], int):
        return _rule_message(raw, loc, err)
    dotted = ".".join(str(x) for x in loc)
    if kind == "missing":
        return f"the file lacks '{loc[0]}'" if len(loc) == 1 else f"{'.'.join(map(str, loc[:-1]))} lacks '{loc[-1]}'"
    if loc == ("verdict_area",):
        return "verdict_area must be 'ellipsoidal' or 'planar'"
    if loc[:3] == ("landuse", "industrial", "by_dictionary"):
        return "landuse.industrial.by_dictionary must map dictionary ids to {codes, names}"
    if loc[-1] == "margin_pct":
        return f"status.margin_pct must be a number, not {err['input']!r}"
    if loc[:3] == ("landuse", "industrial", "source"):
        return f"landuse.industrial source: {err['msg']}"
    if kind == "extra_forbidden":
        return f"unknown key '{dotted}'"
    return f"'{dotted}': {err['msg']}"


def parse_ruleset(path: Path, data: Any) -> RuleSetFile:
    """Validate the contents of one rule-set file.

    Args:
        path: the file (named in errors).
        data: its contents as read by ``yaml.safe_load``.

    Returns:
        the validated :class:`RuleSetFile`.

    Raises:
        RuleSetError: the first schema violation (missing or unknown keys, unknown kinds, units,
            comparisons or measures, a threshold that is not a number, a rule without a source,
            duplicate rule ids), naming the file, the rule and the key.
    """
    try:
        return RuleSetFile.model_validate(data)
    except ValidationError as exc:
        raise RuleSetError(path, _message(data, exc.errors()[0])) from None
