"""Zone and rule files are checked by their pydantic schemas; the exported JSON Schemas are current."""

import datetime
import json

import jsonschema
import pytest
import yaml

from gisapp.analysis.accounting import rules
from gisapp.analysis.accounting.ruleschema import RULE_MODELS
from gisapp.analysis.schemaexport import DOCS_DIR, SCHEMAS, export_schemas, schema_text
from gisapp.core import paths
from gisapp.plans.geomethods import GEOMETRY_METHODS
from gisapp.plans.structures import DefinitionError, load_definition

ELEMENT = {"id": "a", "name": "A", "role": "node", "section": "s", "sentence": "A"}
DEFINITION = {"id": "t", "plan": "p.txt", "structure": "s", "section": "s", "city": "中山市"}


def _write(tmp_path, data, name="bad.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def _zone_error(tmp_path, data) -> str:
    with pytest.raises(DefinitionError) as exc:
        load_definition(_write(tmp_path, data))
    assert exc.value.status == 422 and exc.value.code == "invalid_zone_definition"
    return exc.value.message


@pytest.mark.parametrize(
    ("element", "message"),
    [
        ({"geometry": {"method": "union_of_towns"}}, "bad.yaml: element 'a': method 'union_of_towns' needs 'towns'"),
        ({"geometry": {"method": "spiral"}}, "bad.yaml: element 'a' has unknown geometry method 'spiral'"),
        ({"role": "hub", "geometry": {"method": "point_in_units"}}, "bad.yaml: element 'a' has unknown role 'hub'"),
        (
            {"geometry": {"method": "point_in_units", "basis": "exact"}},
            "bad.yaml: element 'a' has unknown basis 'exact'",
        ),
        (
            {"geometry": {"method": "point_at_place", "place": "x", "radius_m": 5}},
            "bad.yaml: element 'a': method 'point_at_place' takes no 'radius_m'",
        ),
        (
            {"geometry": {"method": "line_through_places", "places": ["x", "y"], "width_m": 0}},
            "bad.yaml: element 'a': geometry 'width_m': Input should be greater than 0",
        ),
        ({"geometry": {"method": "point_in_units"}, "colour": "red"}, "bad.yaml: element 'a': unknown key 'colour'"),
        ({}, "bad.yaml: element 'a' lacks 'geometry'"),
    ],
)
def test_bad_elements_name_the_file_the_element_and_the_key(tmp_path, element, message):
    data = {**DEFINITION, "elements": [{**ELEMENT, **element}]}
    assert _zone_error(tmp_path, data) == message


def test_bad_definitions_name_the_key(tmp_path):
    el = {**ELEMENT, "geometry": {"method": "point_in_units"}}
    assert _zone_error(tmp_path, {**DEFINITION, "elements": [el, el]}) == "bad.yaml: element id 'a' is used twice"
    no_city = {k: v for k, v in DEFINITION.items() if k != "city"}
    assert _zone_error(tmp_path, {**no_city, "elements": [el]}) == "bad.yaml: missing key 'city'"
    inv = {"list": "L", "section": "s", "lines": [3], "items": ["A"]}
    assert (
        _zone_error(tmp_path, {**DEFINITION, "elements": [el], "inventory": [inv]})
        == "bad.yaml: inventory list 'L': 'lines' must be [first, last]"
    )
    inv = {**inv, "lines": [3, 4], "items": []}
    assert (
        _zone_error(tmp_path, {**DEFINITION, "elements": [el], "inventory": [inv]})
        == "bad.yaml: inventory list 'L' has no items"
    )
    assert _zone_error(tmp_path, ["a"]) == "bad.yaml: the file must hold a mapping"


RULESET = {
    "id": "t",
    "city": "中山市",
    "title": "T",
    "control_line": {"layer": "zs-industrial-redline"},
    "units": {"layer": "zs-towns"},
    "rules": [
        {
            "id": "floor",
            "kind": "floor",
            "title": "不少于250平方公里",
            "threshold": 250,
            "unit": "km2",
            "source": {"document": "D", "quote": "Q"},
        }
    ],
}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            {"kind": "ceiling"},
            "rule 'floor': unknown kind 'ceiling' (use floor, progress, reported_share, landuse_share, overlap)",
        ),
        ({"unit": "acre"}, "rule 'floor': unit must be one of km2, ha, mu, m2"),
        ({"kind": "reported_share", "numerator": "a", "denominator": "b"}, "rule 'floor': a share's unit is 'pct'"),
        ({"threshold": "250"}, "rule 'floor' threshold must be a number, not '250'"),
        ({"threshold": True}, "rule 'floor' threshold must be a number, not True"),
        ({"source": None}, "rule 'floor' needs a 'source' mapping (document, quote, …)"),
        (
            {"source": {"document": "D", "quote": "Q", "file": "x.txt"}},
            "rule 'floor': a source in a plan file needs its 'line'",
        ),
        (
            {"source": {"document": "D", "quote": "Q", "status": "sure"}},
            "rule 'floor': source status must be one of verified, secondary, unverified",
        ),
        ({"comparison": "=="}, "rule 'floor': comparison must be one of >=, >, <=, <"),
        ({"kind": "progress"}, "rule 'floor' lacks 'metric'"),
        ({"metric": "x"}, "rule 'floor': a floor rule takes no 'metric'"),
        ({"id": "Floor One"}, "rule 'Floor One': ids must be unique lower-case words joined by '-'"),
    ],
)
def test_bad_rules_name_the_file_the_rule_and_the_key(tmp_path, patch, message):
    path = _write(tmp_path, {**RULESET, "rules": [{**RULESET["rules"][0], **patch}]})
    with pytest.raises(rules.RuleSetError) as exc:
        rules.load_ruleset_file(path)
    assert exc.value.status == 422 and exc.value.message == f"bad.yaml: {message}"


def test_bad_rule_sets_name_the_key(tmp_path):
    def error(data):
        with pytest.raises(rules.RuleSetError) as exc:
            rules.load_ruleset_file(_write(tmp_path, data))
        return exc.value.message

    assert error({**RULESET, "rules": RULESET["rules"] * 2}) == (
        "bad.yaml: rule 'floor': ids must be unique lower-case words joined by '-'"
    )
    assert error({k: v for k, v in RULESET.items() if k != "units"}) == "bad.yaml: the file lacks 'units'"
    assert error({**RULESET, "units": {}}) == "bad.yaml: units lacks 'layer'"
    assert error({**RULESET, "verdict_area": "geodesic"}) == "bad.yaml: verdict_area must be 'ellipsoidal' or 'planar'"
    assert error({**RULESET, "colour": 1}) == "bad.yaml: unknown key 'colour'"


def test_registries_and_schemas_name_the_same_methods_and_kinds():
    zones = json.loads(schema_text("zones.schema.json"))
    mapping = zones["$defs"]["Element"]["properties"]["geometry"]["discriminator"]["mapping"]
    assert sorted(mapping) == sorted(GEOMETRY_METHODS) and len(GEOMETRY_METHODS) == 11
    ruleset = json.loads(schema_text("rules.schema.json"))
    mapping = ruleset["properties"]["rules"]["items"]["discriminator"]["mapping"]
    assert sorted(mapping) == sorted(rules.RULE_KINDS) == sorted(RULE_MODELS)
    assert [rules.RULE_KINDS[k].params for k in RULE_MODELS] == list(RULE_MODELS.values())


def test_exported_schemas_are_current(tmp_path):
    """Fails when a model changed and ``gisapp schema export`` was not run (the fix: run it)."""
    assert sorted(p.name for p in export_schemas(tmp_path)) == sorted(SCHEMAS)
    for name in SCHEMAS:
        assert (DOCS_DIR / name).read_text("utf-8") == (tmp_path / name).read_text("utf-8"), (
            f"docs/schemas/{name} is stale: run `gisapp schema export`"
        )


def _as_json(data):
    return json.loads(json.dumps(data, default=lambda v: v.isoformat() if isinstance(v, datetime.date) else v))


def test_bundled_files_conform_to_the_exported_json_schemas():
    """What an editor checks (the JSON Schema) agrees with what the app checks, on every bundled file."""
    for schema_name, directory in (
        ("zones.schema.json", paths.zones_dir()),
        ("rules.schema.json", paths.REPO_ROOT / "rules"),
    ):
        schema = json.loads((DOCS_DIR / schema_name).read_text("utf-8"))
        validator = jsonschema.Draft202012Validator(schema)
        files = sorted(directory.glob("*.yaml"))
        assert files
        for path in files:
            data = _as_json(yaml.safe_load(path.read_text("utf-8")))
            assert list(validator.iter_errors(data)) == [], path.name
    schema = json.loads((DOCS_DIR / "zones.schema.json").read_text("utf-8"))
    bad = {**DEFINITION, "elements": [{**ELEMENT, "geometry": {"method": "union_of_towns"}}]}
    assert [e.validator for e in jsonschema.Draft202012Validator(schema).iter_errors(bad)]


def test_cli_schema_export_writes_both_files(tmp_path, capsys):
    from gisapp.cli import main

    assert main(["schema", "export", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [str(tmp_path / n) for n in SCHEMAS]
    assert (tmp_path / "zones.schema.json").read_text("utf-8") == schema_text("zones.schema.json")
