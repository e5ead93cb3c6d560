"""The OpenAPI document of ``/ogc/openapi`` made self-contained (usable offline, e.g. by schemathesis).

pygeoapi 0.21 writes ``$ref``s to documents on the web (the OGC API – Features Part 1 OpenAPI
fragments on schemas.opengis.net, the OGC API – Records ``sortby`` parameter, OGC API –
Processes/Tiles schemas): 331 of them for the bundled store. :func:`bundled_openapi` replaces each
by a local ``#/components/…`` reference to the definition in :data:`COMPONENTS`, and drops the
``/jobs`` paths (this service runs no processes).

Source of the definitions: OGC 17-069r4 *OGC API – Features – Part 1: Core* (2022), its OpenAPI
fragments ``ogcapi-features-1.yaml`` (components ``parameters/featureId``, ``responses/LandingPage``,
``Collection``, ``Features``, ``Feature``, ``InvalidParameter``, ``NotFound``, ``ServerError`` and the
schemas they use: ``link``, ``landingPage``, ``collection``, ``extent``, ``exception``,
``featureCollectionGeoJSON``, ``featureGeoJSON``, ``geometryGeoJSON``); OGC 20-004 *OGC API – Records*
``parameters/sortby.yaml``; the GeoJSON members as RFC 7946 defines them. They are restated here in
a compact form (same names, types and required members; geometry schemas reduced to ``type`` and
``coordinates``/``geometries``), because the server must answer without the web.
"""

from __future__ import annotations

import copy
from typing import Any

_LINK = {"$ref": "#/components/schemas/link"}
_EXCEPTION_JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/exception"}}}
_HTML = {"text/html": {"schema": {"type": "string"}}}

#: Local definitions of every external ``$ref`` pygeoapi writes: ``{kind: {name: definition}}``.
COMPONENTS: dict[str, dict[str, Any]] = {
    "schemas": {
        "link": {
            "type": "object",
            "required": ["href"],
            "properties": {
                "href": {"type": "string"},
                "rel": {"type": "string"},
                "type": {"type": "string"},
                "hreflang": {"type": "string"},
                "title": {"type": "string"},
                "length": {"type": "integer"},
            },
        },
        "exception": {
            "type": "object",
            "description": "Information about the exception: an error code plus an optional description.",
            "required": ["code"],
            "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
        },
        "landingPage": {
            "type": "object",
            "required": ["links"],
            "properties": {
                "title": {"type": "string"},
                "description": {"type": "string"},
                "links": {"type": "array", "items": _LINK},
            },
        },
        "extent": {
            "type": "object",
            "properties": {
                "spatial": {
                    "type": "object",
                    "properties": {
                        "bbox": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
                        },
                        "crs": {"type": "string"},
                    },
                },
                "temporal": {"type": "object"},
            },
        },
        "collection": {
            "type": "object",
            "required": ["id", "links"],
            "properties": {
                "id": {"type": "string"},
                "title": {"type": "string"},
                "description": {"type": "string"},
                "links": {"type": "array", "items": _LINK},
                "extent": {"$ref": "#/components/schemas/extent"},
                "itemType": {"type": "string"},
                "crs": {"type": "array", "items": {"type": "string"}},
            },
        },
        "geometryGeoJSON": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {
                    "type": "string",
                    "enum": [
                        "Point",
                        "MultiPoint",
                        "LineString",
                        "MultiLineString",
                        "Polygon",
                        "MultiPolygon",
                        "GeometryCollection",
                    ],
                },
                "coordinates": {"type": "array"},
                "geometries": {"type": "array"},
            },
        },
        "featureGeoJSON": {
            "type": "object",
            "required": ["type", "geometry", "properties"],
            "properties": {
                "type": {"type": "string", "enum": ["Feature"]},
                "geometry": {"nullable": True, "allOf": [{"$ref": "#/components/schemas/geometryGeoJSON"}]},
                "properties": {"type": "object", "nullable": True},
                "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                "links": {"type": "array", "items": _LINK},
            },
        },
        "featureCollectionGeoJSON": {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": {"$ref": "#/components/schemas/featureGeoJSON"}},
                "links": {"type": "array", "items": _LINK},
                "timeStamp": {"type": "string", "format": "date-time"},
                "numberMatched": {"type": "integer", "minimum": 0},
                "numberReturned": {"type": "integer", "minimum": 0},
            },
        },
    },
    "parameters": {
        "featureId": {
            "name": "featureId",
            "in": "path",
            "description": "local identifier of a feature",
            "required": True,
            "schema": {"type": "string"},
        },
        "sortby": {
            "name": "sortby",
            "in": "query",
            "description": "Properties to sort by, comma-separated; '-' before a name sorts descending, '+' ascending.",
            "required": False,
            "style": "form",
            "explode": False,
            "schema": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "[+|-]?[A-Za-z_].*"}},
        },
    },
    "responses": {
        "LandingPage": {
            "description": "The landing page provides links to the API definition, the conformance statements "
            "and to the feature collections in this dataset.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/landingPage"}}, **_HTML},
        },
        "Collection": {
            "description": "Information about the feature collection with id `collectionId`.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/collection"}}, **_HTML},
        },
        "Features": {
            "description": "The response is a document consisting of features in the collection.",
            "content": {
                "application/geo+json": {"schema": {"$ref": "#/components/schemas/featureCollectionGeoJSON"}},
                **_HTML,
            },
        },
        "Feature": {
            "description": "Fetch the feature with id `featureId` in the feature collection with id `collectionId`.",
            "content": {"application/geo+json": {"schema": {"$ref": "#/components/schemas/featureGeoJSON"}}, **_HTML},
        },
        "InvalidParameter": {
            "description": "A query parameter has an invalid value.",
            "content": {**_EXCEPTION_JSON, **_HTML},
        },
        "NotFound": {"description": "The requested resource does not exist on the server.", "content": _EXCEPTION_JSON},
        "ServerError": {"description": "A server error occurred.", "content": {**_EXCEPTION_JSON, **_HTML}},
    },
}

#: External references pygeoapi writes without a fragment (whole documents): their local name.
_WHOLE_DOCUMENTS = {
    "parameters/sortby.yaml": "#/components/parameters/sortby",
    "responses/NotFound.yaml": "#/components/responses/NotFound",
    "schemas/exception.yaml": "#/components/schemas/exception",
}

#: Paths pygeoapi describes that this service does not serve (OGC API – Processes jobs).
ABSENT_PATH_PREFIXES = ("/jobs", "/processes", "/TileMatrixSets")


def local_ref(ref: str) -> str:
    """The local ``#/components/…`` reference for an external ``$ref`` (a local one is returned unchanged).

    Raises:
        KeyError: for an external reference :data:`COMPONENTS` does not define (so a pygeoapi upgrade
            that adds one fails the tests instead of serving a document that needs the web).
    """
    if ref.startswith("#"):
        return ref
    document, _, fragment = ref.partition("#")
    if fragment:
        _, kind, name = fragment.strip("/").split("/")[-3:]
        if name not in COMPONENTS[kind]:
            raise KeyError(ref)
        return f"#/components/{kind}/{name}"
    for suffix, local in _WHOLE_DOCUMENTS.items():
        if document.endswith(suffix):
            return local
    raise KeyError(ref)


def bundled_openapi(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of the OpenAPI 3.0 document ``doc`` with no ``$ref`` outside it.

    Every external ``$ref`` becomes the local one of :func:`local_ref`; the definitions of
    :data:`COMPONENTS` are added under ``components`` (existing names are kept); paths under
    :data:`ABSENT_PATH_PREFIXES` are removed.

    Raises:
        KeyError: an external reference with no local definition (see :func:`local_ref`).
    """
    out = copy.deepcopy(doc)
    out["paths"] = {p: v for p, v in out.get("paths", {}).items() if not p.startswith(ABSENT_PATH_PREFIXES)}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                node["$ref"] = local_ref(ref)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(out)
    components = out.setdefault("components", {})
    for kind, definitions in COMPONENTS.items():
        section = components.setdefault(kind, {})
        for name, definition in definitions.items():
            section.setdefault(name, copy.deepcopy(definition))
    return out
