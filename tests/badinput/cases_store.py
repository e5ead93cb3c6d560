"""Bad input for the layer store's writing commands (issue 11, finding 7).

``gisapp towns replace``, ``gisapp redline import``, ``gisapp build`` and ``gisapp store`` must
reject each of these with exit 2 and one line on stderr *before* writing anything. Every file
is generated here from the bundled ``zs-towns`` layer (GeoJSON text), so nothing is a binary blob.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from gisapp.core import paths
from tests.badinput import CliCase

ITEM = "7"
#: Paris, for a town or a red line moved out of 中山市 (lon, lat).
PARIS = (2.3522, 48.8566)


def _towns_doc() -> dict[str, Any]:
    doc = json.loads((paths.layers_dir() / "zs-towns.geojson").read_text("utf-8"))
    for f in doc["features"]:
        f["properties"] = {"name": f["properties"]["name"]}
    return doc


def _bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _moved(geometry: dict[str, Any], to: tuple[float, float]) -> dict[str, Any]:
    """The geometry translated so that its first vertex lies at ``to``."""
    g = copy.deepcopy(geometry)
    rings = g["coordinates"] if g["type"] == "Polygon" else [r for p in g["coordinates"] for r in p]
    x0, y0 = rings[0][0]
    for ring in rings:
        for pt in ring:
            pt[0], pt[1] = pt[0] - x0 + to[0], pt[1] - y0 + to[1]
    return g


def _square(lon: float, lat: float, d: float = 0.01) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]],
    }


#: A self-intersecting "bow tie" inside 中山港街道.
BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[113.48, 22.56], [113.50, 22.58], [113.50, 22.56], [113.48, 22.58], [113.48, 22.56]]],
}


def _fc(features: list[dict[str, Any]]) -> bytes:
    return _bytes({"type": "FeatureCollection", "features": features})


def _feature(props: dict[str, Any], geometry: dict[str, Any] | None) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _towns_cases() -> list[CliCase]:
    doc = _towns_doc()
    feats = doc["features"]
    variants: dict[str, bytes] = {}
    variants["towns-one-of-23"] = _fc(feats[:1])
    paris = copy.deepcopy(doc)
    paris["features"][0]["geometry"] = _moved(feats[0]["geometry"], PARIS)
    variants["towns-one-moved-to-paris"] = _bytes(paris)
    allparis = copy.deepcopy(doc)
    for f in allparis["features"]:
        f["geometry"] = _moved(f["geometry"], (PARIS[0] + 0.1 * len(f["properties"]["name"]), PARIS[1]))
    variants["towns-all-in-paris"] = _bytes(allparis)
    variants["towns-duplicate-name"] = _fc(feats + [copy.deepcopy(feats[3])])
    short = copy.deepcopy(feats[0])
    short["properties"]["name"] = short["properties"]["name"].removesuffix("街道").removesuffix("镇")
    variants["towns-short-and-full-name-twice"] = _fc(feats + [short])
    variants["towns-empty-collection"] = _fc([])
    variants["towns-points-not-polygons"] = _fc(
        [_feature(f["properties"], {"type": "Point", "coordinates": f["geometry"]["coordinates"][0][0]}) for f in feats]
        if feats[0]["geometry"]["type"] == "Polygon"
        else [_feature(f["properties"], {"type": "Point", "coordinates": [113.4, 22.5]}) for f in feats]
    )
    bow = copy.deepcopy(feats)
    bow[5]["geometry"] = BOWTIE
    variants["towns-invalid-polygon"] = _fc(bow)
    null = copy.deepcopy(feats)
    null[7]["geometry"] = None
    variants["towns-null-geometry"] = _fc(null)
    unknown = copy.deepcopy(feats)
    unknown[2]["properties"]["name"] = "东升镇"
    variants["towns-unknown-name-dongsheng"] = _fc(unknown)
    cases = [
        CliCase(name, ("towns", "replace", "{tmp}/towns.geojson"), {"towns.geojson": b}, item=ITEM)
        for name, b in variants.items()
    ]
    cases += [
        CliCase("towns-empty-file", ("towns", "replace", "{tmp}/towns.geojson"), {"towns.geojson": b""}, item=ITEM),
        CliCase(
            "towns-garbage-bytes",
            ("towns", "replace", "{tmp}/towns.geojson"),
            {"towns.geojson": bytes(range(256)) * 4},
            item=ITEM,
        ),
        CliCase(
            "towns-wrong-name-field",
            ("towns", "replace", "{tmp}/towns.geojson", "--name-field", "XZQMC"),
            {"towns.geojson": _bytes(doc)},
            item=ITEM,
        ),
        CliCase("towns-missing-file", ("towns", "replace", "{tmp}/nope.geojson"), item=ITEM),
    ]
    return cases


def _redline_cases() -> list[CliCase]:
    inside = _square(113.487, 22.5646)
    variants = {
        "redline-in-paris": _fc([_feature({"BH": "A1"}, _square(*PARIS))]),
        "redline-one-block-in-paris": _fc([_feature({"BH": "A1"}, inside), _feature({"BH": "A2"}, _square(*PARIS))]),
        "redline-empty-collection": _fc([]),
        "redline-invalid-geometry": _fc([_feature({"BH": "A1"}, inside), _feature({"BH": "A2"}, BOWTIE)]),
        "redline-duplicate-ids": _fc([_feature({"BH": "A1"}, inside), _feature({"BH": "A1"}, _square(113.25, 22.67))]),
        "redline-lines-not-polygons": _fc(
            [_feature({"BH": "A1"}, {"type": "LineString", "coordinates": [[113.48, 22.56], [113.5, 22.58]]})]
        ),
        "redline-null-geometry": _fc([_feature({"BH": "A1"}, inside), _feature({"BH": "A2"}, None)]),
    }
    cases = [
        CliCase(name, ("redline", "import", "{tmp}/red.geojson", "--id-field", "BH"), {"red.geojson": b}, item=ITEM)
        for name, b in variants.items()
    ]
    good = _fc([_feature({"BH": "A1"}, inside)])
    cases += [
        CliCase(
            "redline-wrong-id-field",
            ("redline", "import", "{tmp}/red.geojson", "--id-field", "NOPE"),
            {"red.geojson": good},
            item=ITEM,
        ),
        CliCase("redline-empty-file", ("redline", "import", "{tmp}/red.geojson"), {"red.geojson": b""}, item=ITEM),
        CliCase(
            "redline-garbage-text",
            ("redline", "import", "{tmp}/red.geojson"),
            {"red.geojson": b'{"type": "FeatureCollection", "features": [' * 50},
            item=ITEM,
        ),
    ]
    return cases


def _store_cases() -> list[CliCase]:
    towns = _towns_doc()
    meta = json.loads((paths.layers_dir() / "zs-towns.meta.json").read_text("utf-8"))
    meta["geometry_basis"] = "official"
    official_store = {
        "zs-towns.geojson": _bytes(towns),
        "zs-towns.meta.json": json.dumps(meta, ensure_ascii=False).encode("utf-8"),
    }
    red_meta = json.loads((paths.layers_dir() / "zs-industrial-redline.meta.json").read_text("utf-8"))
    return [
        CliCase("build-refuses-to-drop-official-towns", ("build", "--store", "{tmp}"), official_store, item=ITEM),
        CliCase(
            "build-refuses-official-towns-even-with-redline",
            ("build", "--store", "{tmp}"),
            official_store
            | {
                "zs-industrial-redline.geojson": (paths.layers_dir() / "zs-industrial-redline.geojson").read_bytes(),
                "zs-industrial-redline.meta.json": json.dumps(red_meta | {"geometry_basis": "official"}).encode(),
            },
            item=ITEM,
        ),
        CliCase("store-rollback-nothing-to-roll-back", ("store", "rollback"), item=ITEM),
        CliCase("store-rollback-unversioned-store", ("store", "rollback", "--store", "{tmp}"), item=ITEM),
        CliCase("store-init-already-versioned", ("store", "init"), item=ITEM),
    ]


CASES: list[CliCase] = _towns_cases() + _redline_cases() + _store_cases()
