"""The typed results of control-line accounting and raster zonal statistics, and their one serialiser.

Every report the accounting produces is a tree of the pydantic models below; the JSON the API
and the CLI return is :meth:`ResultModel.to_json_dict` of the top model, nothing else. Field order
is the JSON key order; values are stored already rounded (the builders round, the models do not).

Units and methods, for every ``planar_*`` / ``ellipsoidal_*`` field unless its doc says otherwise:

* **planar**: area in EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E, metres);
* **ellipsoidal**: geodesic area on GRS80 (the CGCS2000 ellipsoid), see :mod:`gisapp.analysis.accounting.areas`;
* ``_m2`` m² (2 decimals), ``_km2`` km² (6 decimals), ``_ha`` 公顷 (10 000 m², 4 decimals),
  ``_mu`` 亩 (10000/15 m² exactly, 4 decimals), ``_pct`` percent.

Row models list their key fields first: pydantic orders the fields of a model along its bases from
the last base to the first, so ``class UnitRow(TwinAreas, _UnitKey)`` serialises ``unit`` before the areas.

Rule verdict rows (:data:`RuleVerdict`) stay plain dicts: :mod:`gisapp.analysis.accounting.rules`
builds them and each rule kind adds its own figures.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

#: One rule's verdict as :func:`gisapp.analysis.accounting.rules.evaluate_rules` returns it: ``id, kind,
#: title, title_en, comparison, comparison_zh, threshold, unit, …, verdict, verdict_zh, citation{…},
#: citation_label, quote_checked`` and, per kind, the figures behind the verdict (``value`` …).
RuleVerdict = dict[str, Any]


class ResultModel(BaseModel):
    """Base of every result: frozen, no unknown fields, one serialiser (:meth:`to_json_dict`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    #: Top-level fields left out of the JSON when they are None (fields only some callers set).
    omit_if_none: ClassVar[tuple[str, ...]] = ()

    def to_json_dict(self) -> dict[str, Any]:
        """The result as the JSON-ready dict the API and the CLI return: keys in field order, aliases
        (``pass``) applied, values as stored (Python floats, not re-rounded; NaN stays NaN)."""
        out = self.model_dump(by_alias=True)
        for name in self.omit_if_none:
            if out.get(name) is None:
                out.pop(name, None)
        return out


# ---------------------------------------------------------------- areas


class TwinAreas(ResultModel):
    """One area in every unit, both methods (flat, CSV-friendly): see :func:`gisapp.analysis.accounting.areas.twin_fields`."""

    planar_m2: float = Field(description="planar area, m² (EPSG:4547)")
    planar_km2: float = Field(description="planar area, km²")
    planar_ha: float = Field(description="planar area, 公顷")
    planar_mu: float = Field(description="planar area, 亩")
    ellipsoidal_m2: float = Field(description="ellipsoidal area, m² (GRS80)")
    ellipsoidal_km2: float = Field(description="ellipsoidal area, km²")
    ellipsoidal_ha: float = Field(description="ellipsoidal area, 公顷")
    ellipsoidal_mu: float = Field(description="ellipsoidal area, 亩")
    planar_vs_ellipsoidal_pct: float = Field(description="(planar / ellipsoidal − 1) × 100, %; 0 when empty")


#: The totals of a line (the brief's name for :class:`TwinAreas`).
AreaTotals = TwinAreas


class AreaDelta(ResultModel):
    """A change of area (after − before), both methods: km² (6 decimals), 公顷 and 亩 (4 decimals)."""

    planar_km2: float
    planar_ha: float
    planar_mu: float
    ellipsoidal_km2: float
    ellipsoidal_ha: float
    ellipsoidal_mu: float


class AreaMethods(ResultModel):
    """The ``area_methods`` block every report carries (:func:`gisapp.analysis.accounting.areas.methods_block`)."""

    planar: str
    ellipsoidal: str
    units: str
    official_practice: str
    official_practice_source: str


# ---------------------------------------------------------------- line accounting


class RulesetRef(ResultModel):
    """Which rule set a report applies."""

    id: str
    city: str
    title: str
    title_en: str


class FloorInfo(ResultModel):
    """The floor rule of a rule set (e.g. 不少于 250 km²) with its citation."""

    rule: str = Field(description="rule id")
    value: float = Field(description="the threshold, in ``unit``")
    unit: str = Field(description="km2, ha, mu or m2")
    value_km2: float = Field(description="the threshold in km²")
    comparison: str
    title: str
    quote: str = Field(description="the quoted sentence of the plan")
    citation_label: str


class Headroom(AreaDelta):
    """Total − floor (negative: a shortfall), both methods; ``sign`` follows the verdict area."""

    sign: Literal["surplus", "shortfall"]
    sign_zh: Literal["富余", "缺口"]


class Status(ResultModel):
    """Colour status of the verdict total against the floor (:func:`gisapp.analysis.accounting.tables.status_of`)."""

    status: Literal["below_floor", "near_floor", "comfortable", "no_floor"]
    colour: str = Field(description="CSS colour, #rrggbb")
    label_zh: str
    label_en: str
    margin_pct: float = Field(description="a total within this % above the floor is near it")


class _TierKey(ResultModel):
    tier: str = Field(description="the tier (未分级 when the line has none)")
    block_count: int


class TierRow(TwinAreas, _TierKey):
    """The union of one tier's blocks."""

    share_of_line_pct: float = Field(description="planar tier area / planar total × 100 (3 decimals)")


class UnitTierArea(ResultModel):
    """The planar area (公顷, 4 decimals) of one tier inside one unit."""

    tier: str
    planar_ha: float


class _UnitKey(ResultModel):
    unit: str = Field(description="unit name (镇街 / 区), or （未落入任何…） for the part in no unit")


class UnitRow(TwinAreas, _UnitKey):
    """The part of the line in one unit and in no earlier unit (the rows partition the line)."""

    unit_area_km2: float | None = Field(description="planar unit area, km² (4 decimals); None for the last row")
    share_of_unit_pct: float | None = Field(description="planar piece / planar unit area × 100; None for the last row")
    share_of_line_pct: float
    tiers: list[UnitTierArea]
    tiers_text: str = Field(description="the tiers as text: '一级 12.34 公顷；…'")


class UnitSum(ResultModel):
    """The per-unit rows added up, against the total (公顷, 4 decimals), and the slivers left out (m²)."""

    planar_ha: float
    ellipsoidal_ha: float
    diff_planar_ha: float
    diff_ellipsoidal_ha: float
    slivers_m2: float


class _ZoneKey(ResultModel):
    zone: str = Field(description="the zone's name (its row number without a name field)")
    role: str


class ZoneRow(TwinAreas, _ZoneKey):
    """The line inside one zone of a structure layer (zones may overlap: not a partition)."""

    share_of_zone_pct: float
    share_of_line_pct: float


class Verdicts(ResultModel):
    """How many rules got each verdict."""

    pass_: int = Field(alias="pass")
    fail: int
    not_reported: int
    not_evaluated: int


class LineAccounting(ResultModel):
    """A control line's accounting (:func:`gisapp.analysis.accounting.tables.line_accounting`)."""

    ruleset: RulesetRef
    layer: str = Field(description="the line layer's id, or the file it came from")
    geometry_basis: str
    illustrative: bool = Field(description="the line is not the official one")
    warning: str = Field(description="the ILLUSTRATIVE warning, or ''")
    area_methods: AreaMethods
    verdict_area: Literal["planar", "ellipsoidal"]
    block_count: int
    total: TwinAreas
    floor: FloorInfo | None
    headroom: Headroom | None
    status: Status
    tiers: list[TierRow]
    tier_note: str
    unit_label: str
    unit_label_en: str
    by_unit: list[UnitRow]
    by_unit_sum: UnitSum
    structure: str = Field(description="the structure layer of by_zone, or ''")
    by_zone: list[ZoneRow]
    rules: list[RuleVerdict]
    verdicts: Verdicts
    notes: list[str]


class UnitAreaRow(TwinAreas, _UnitKey):
    """The area of one whole unit, both methods (to show how far they differ)."""


class BlockRef(ResultModel):
    """A block of the line: its id and tier."""

    block_id: str
    tier: str


# ---------------------------------------------------------------- land use


class _ClassAreas(ResultModel):
    """Class areas inside and outside the line, 公顷 (4 decimals)."""

    inside_planar_ha: float
    inside_ellipsoidal_ha: float
    outside_planar_ha: float
    outside_ellipsoidal_ha: float


class _ClassKey(ResultModel):
    code: str = Field(description="class code (or the raw value when the dictionary lacks it)")
    name: str = Field(description="class name, or 未收录")
    status: str = Field(description="verification status of the class: verified, secondary, unverified or 未收录")
    industrial: bool


class ClassRow(_ClassAreas, _ClassKey):
    """One land-use class: its area inside and outside the line."""


class _ClassOf(ResultModel):
    code: str
    name: str
    industrial: bool


class _ZoneName(ResultModel):
    zone: str = Field(description="the zone's name")


class UnitClassRow(_ClassAreas, _ClassOf, _UnitKey):
    """One class in one unit."""


class ZoneClassRow(_ClassAreas, _ClassOf, _ZoneName):
    """One class in one zone."""


class IndustrialTotals(ResultModel):
    """Industrial land, on the rule set's verdict area method (m² 2 decimals, 公顷 4, % 4)."""

    inside_m2: float
    outside_m2: float
    inside_ha: float
    total_ha: float
    share_of_line_pct: float = Field(description="industrial land inside / line area × 100")
    coverage_pct: float = Field(description="industrial land inside / all industrial land × 100")


class ShareRow(ResultModel):
    """A share for the ratio rules: numerator / denominator (m², 2 decimals) × 100 (4 decimals)."""

    scope: str = Field(description="a unit name, a block id, or 'line'")
    numerator_m2: float
    denominator_m2: float
    share_pct: float


class Shares(ResultModel):
    """The shares the ``landuse_share`` rules read, by measure."""

    industrial_coverage_per_unit: list[ShareRow]
    industrial_share_per_block: list[ShareRow]
    industrial_share_of_line: list[ShareRow]

    def for_rules(self) -> dict[str, list[dict[str, Any]]]:
        """The shares as :func:`gisapp.analysis.accounting.rules.evaluate_rules` takes them."""
        return self.to_json_dict()


class OfficialAreaRow(ResultModel):
    """The official 图斑面积 (TBMJ) of one class beside the computed ellipsoidal area of its 图斑."""

    code: str
    name: str
    feature_count: int
    official_m2: float = Field(description="sum of TBMJ, m² (2 decimals)")
    ellipsoidal_m2: float = Field(description="sum of the computed GRS80 areas of the same 图斑, m²")
    difference_m2: float = Field(description="official_m2 - ellipsoidal_m2")
    difference_pct: float = Field(description="difference_m2 / ellipsoidal_m2 × 100 (4 decimals)")


class OfficialFeatureRow(ResultModel):
    """One 图斑 whose TBMJ differs most from its computed ellipsoidal area."""

    bsm: str = Field(description="the 图斑's 标识码 BSM (or its row number, #n, when the layer has none)")
    code: str
    official_m2: float
    ellipsoidal_m2: float
    difference_m2: float
    difference_pct: float


class OfficialArea(ResultModel):
    """The official areas of a 三调 地类图斑 (DLTB) layer against the computed ellipsoidal areas.

    TBMJ is the 图斑面积 the survey computed on the CGCS2000 ellipsoid (and adjusted to the control
    areas); the computed area is GRS80 geodesic on the geometry as supplied. Differences come from
    that adjustment, from coordinate rounding and from any editing since the survey.
    """

    area_field: str = Field(description="the official area field (TBMJ)")
    deduction_field: str | None = Field(description="the 扣除地类面积 field (KCMJ) when present")
    standard: str = Field(description="the database standard the field names follow")
    feature_count: int
    missing_count: int = Field(description="图斑 without a usable TBMJ (left out of the sums)")
    official_m2: float
    ellipsoidal_m2: float
    difference_m2: float
    difference_pct: float
    deduction_m2: float | None = Field(description="sum of KCMJ, m² (None without the field)")
    by_class: list[OfficialAreaRow]
    largest_differences: list[OfficialFeatureRow] = Field(description="up to 10 图斑, largest |difference_pct| first")


class LandUseAccounting(ResultModel):
    """Land-use classes against a line (:func:`gisapp.analysis.accounting.landuse.landuse_accounting`).

    ``official_area`` is present only for a 三调 地类图斑 layer (fields DLBM and TBMJ); it is left
    out of the JSON otherwise, so the keys of other layers' results are unchanged.
    """

    dictionary: dict[str, Any] = Field(description="the dictionary's summary (Dictionary.summary())")
    predicate: dict[str, Any] = Field(description="which classes count as industrial (IndustrialPredicate.to_dict())")
    class_field: str
    feature_count: int
    overlap_m2: float = Field(description="planar area where land-use polygons overlap each other, m²")
    method: str = Field(description="the area method of the shares: planar or ellipsoidal")
    by_class: list[ClassRow]
    by_unit: list[UnitClassRow]
    by_zone: list[ZoneClassRow]
    industrial: IndustrialTotals
    shares: Shares
    industrial_note: str = Field(default="", description="the rule set's note on what counts as industrial")
    industrial_citation: dict[str, Any] | None = None
    official_area: OfficialArea | None = None

    @model_serializer(mode="wrap")
    def _drop_absent_official_area(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        if out.get("official_area") is None:
            out.pop("official_area", None)
        return out


class AccountingReport(LineAccounting):
    """The report of :func:`gisapp.analysis.accounting.service.report`: the accounting plus the inputs' context."""

    source_line: Literal["stored layer", "supplied file"]
    unit_areas: list[UnitAreaRow]
    landuse: LandUseAccounting | None
    blocks: list[BlockRef]


# ---------------------------------------------------------------- adjustments and versions


class _DeltaAreas(ResultModel):
    """Area added, removed and net, 公顷 (4 decimals)."""

    added_planar_ha: float
    added_ellipsoidal_ha: float
    removed_planar_ha: float
    removed_ellipsoidal_ha: float
    net_planar_ha: float
    net_ellipsoidal_ha: float


class UnitDeltaRow(_DeltaAreas, _UnitKey):
    """The change in one unit."""


class _TierName(ResultModel):
    tier: str


class TierDeltaRow(_DeltaAreas, _TierName):
    """The change in one tier."""


class BlockSets(ResultModel):
    """Block ids only in the old version, only in the new, and how many both have."""

    only_old: list[str]
    only_new: list[str]
    common: int


class Comparison(ResultModel):
    """Two versions of a line compared (:func:`gisapp.analysis.accounting.adjustments.compare_versions`)."""

    old_total: TwinAreas
    new_total: TwinAreas
    added: TwinAreas = Field(description="in the new version and not the old")
    removed: TwinAreas = Field(description="in the old version and not the new")
    net_planar_ha: float
    net_ellipsoidal_ha: float
    by_unit: list[UnitDeltaRow]
    by_tier: list[TierDeltaRow]
    blocks: BlockSets


class VersionComparison(Comparison):
    """:class:`Comparison` with the names of the versions (:func:`gisapp.analysis.accounting.service.compare`)."""

    old: str
    new: str
    unit_label: str
    illustrative: bool
    warning: str


class BeforeSummary(ResultModel):
    """The line before an adjustment: total, status, verdict counts, headroom."""

    total: TwinAreas
    status: Status
    verdicts: Verdicts
    headroom: Headroom | None


class RuleChange(ResultModel):
    """One rule's verdict before and after an adjustment."""

    id: str
    title: str
    before: str
    after: str
    value_before: Any = Field(description="the rule's figure before (None when it has none)")
    value_after: Any
    changed: bool


class AdjustmentReport(ResultModel):
    """What a 占补平衡 proposal would do (:func:`gisapp.analysis.accounting.adjustments.adjustment_report`)."""

    omit_if_none: ClassVar[tuple[str, ...]] = ("layer", "illustrative", "warning")

    before: BeforeSummary
    after: LineAccounting
    delta: AreaDelta
    changes: Comparison
    rule_changes: list[RuleChange]
    messages: list[str]
    repairs: list[str]
    stored_layer_unchanged: Literal[True] = True
    layer: str | None = Field(default=None, description="set by the service: the line layer's id")
    illustrative: bool | None = None
    warning: str | None = None


# ---------------------------------------------------------------- zonal statistics


class RasterInfo(ResultModel):
    """The raster a zonal statistic was computed on."""

    path: str = Field(description="file name (no directory)")
    crs: str
    width: int = Field(description="pixels")
    height: int = Field(description="pixels")
    res: list[float] = Field(description="pixel size (x, y) in the raster CRS's units")
    nodata: float | None
    dtype: str


class ZonalMethods(ResultModel):
    """How the zonal areas were computed."""

    coverage: str
    planar: str
    ellipsoidal: str
    nodata: str


class ClassArea(ResultModel):
    """One raster class in one zone, coverage-weighted: m² (2 decimals), 公顷 (4), % of the planar zone area (4)."""

    value: str = Field(description="the pixel value as text ('3', '2.5')")
    label: str
    planar_m2: float
    planar_ha: float
    ellipsoidal_m2: float
    ellipsoidal_ha: float
    share_pct: float


class ZoneBase(ResultModel):
    """A zone's area and the part of it on nodata or outside the raster (m², 2 decimals)."""

    zone: str
    zone_planar_m2: float
    zone_ellipsoidal_m2: float
    nodata_or_outside_planar_m2: float
    nodata_or_outside_ellipsoidal_m2: float


class CategoricalZone(ZoneBase):
    """A zone's class areas."""

    classes: list[ClassArea]


class ContinuousZone(ZoneBase):
    """A zone's pixel statistics: ``mean`` coverage-weighted (6 decimals); None without data."""

    pixel_count: int = Field(description="pixels covered by at least MIN_COVERAGE")
    weighted_count: float = Field(description="sum of coverage fractions")
    mean: float | None
    min: float | None
    max: float | None


class ZonalStats(ResultModel):
    """Zonal statistics of one raster band (:func:`gisapp.analysis.zonalstats.zonal_stats`)."""

    omit_if_none: ClassVar[tuple[str, ...]] = ("zones_source",)

    raster: RasterInfo
    mode: Literal["categorical", "continuous"]
    band: int
    methods: ZonalMethods
    zones: list[CategoricalZone] | list[ContinuousZone]
    zones_source: str | None = Field(default=None, description="the CLI's --zones argument (a layer id or a file)")
