"""Layer lists and pages without the layers an account may not see (the layer rules of
:class:`gisapp.accounts.accountsdb.AccountsDB`), applied to responses by :mod:`gisapp.web.accounts`.

JSON lists (``/api/layers``, the map's ``/api/map/layers`` with its tree, search results, OGC
collections — every geometry-type part of a mixed layer included), the map page's embedded
configuration, the OGC collections HTML page and the OpenAPI document are filtered;
reading a hidden layer is refused before the route runs (:func:`gisapp.web.policy.layers_named`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from flask import Response

from gisapp.ogcapi.config import collection_ids

#: JSON layer lists filtered by the layer rules: endpoint → (list key, the key holding the layer id).
LIST_FILTERS: dict[str, tuple[str, str]] = {
    "api.layers": ("layers", "id"),
    "mapdata.layers": ("layers", "id"),
    "mapdata.search": ("results", "layer"),
    "ogc.collections": ("collections", "id"),
}
#: HTML pages whose embedded JSON configuration lists layers (the map page).
PAGE_CONFIGS = frozenset({"mapview.index"})


def scrub_tree(nodes: list[Any], visible: Any) -> list[Any]:
    """The map's layer tree without the layers ``visible(id)`` refuses (and nodes left empty)."""
    out = []
    for node in nodes:
        if not isinstance(node, dict):
            out.append(node)
            continue
        node = dict(node)
        had = bool(node.get("layers")) or bool(node.get("children"))
        if isinstance(node.get("layers"), list):
            node["layers"] = [i for i in node["layers"] if not isinstance(i, str) or visible(i)]
        if isinstance(node.get("children"), list):
            node["children"] = scrub_tree(node["children"], visible)
        if had and not node.get("layers") and not node.get("children"):
            continue
        out.append(node)
    return out


_CONFIG_BLOCK = re.compile(r'(<script type="application/json" id="gisapp-config">)(.*?)(</script>)', re.S)


def filter_page_config(response: Response, visible: Any) -> None:
    """Drop the layers ``visible(id)`` refuses from the map page's JSON configuration block
    (``layers``, ``tree`` and each plan view's ``layers``), escaped as Jinja's ``tojson`` does."""
    body = response.get_data(as_text=True)
    found = _CONFIG_BLOCK.search(body)
    if not found:
        return
    config = json.loads(found.group(2))
    config["layers"] = [x for x in config.get("layers", []) if not isinstance(x, dict) or visible(str(x.get("id")))]
    config["tree"] = scrub_tree(config.get("tree", []), visible)
    for plan in config.get("plans", []):
        if isinstance(plan, dict) and isinstance(plan.get("layers"), list):
            plan["layers"] = [i for i in plan["layers"] if visible(str(i.get("id") if isinstance(i, dict) else i))]
    text = json.dumps(config, ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(ch, esc)
    response.set_data(body[: found.start(2)] + text + body[found.end(2) :])


def drop_html_rows(response: Response, layer_ids: list[str]) -> None:
    """Remove the table rows linking to ``/collections/<id>`` of ``layer_ids`` from the OGC collections page."""
    body = response.get_data(as_text=True)
    for layer_id in layer_ids:
        row = re.compile(r"<tr>(?:(?!</tr>).)*?/collections/" + re.escape(layer_id) + r'"(?:(?!</tr>).)*?</tr>', re.S)
        body = row.sub("", body)
    response.set_data(body)


def drop_openapi_collections(response: Response, collection_ids: list[str]) -> None:
    """Remove the paths ``/collections/<id>…`` and the tags named after ``collection_ids`` from the
    OpenAPI document, so that a restricted layer is not even named to an account that may not see it."""
    doc = json.loads(response.get_data())
    if not isinstance(doc, dict):
        return
    hidden = set(collection_ids)
    paths = doc.get("paths") or {}
    doc["paths"] = {k: v for k, v in paths.items() if not (k.startswith("/collections/") and k.split("/")[2] in hidden)}
    if isinstance(doc.get("tags"), list):
        doc["tags"] = [t for t in doc["tags"] if not (isinstance(t, dict) and t.get("name") in hidden)]
    response.set_data(json.dumps(doc, ensure_ascii=False))
    response.headers["Cache-Control"] = "private, no-store"
    response.headers.pop("ETag", None)


def filter_response(response: Response, endpoint: str, visible: Callable[[str], bool], hidden: list[str]) -> None:
    """Drop hidden layers from ``response`` when ``endpoint`` lists layers.

    Args:
        response: the route's response (changed in place); endpoint: its endpoint name.
        visible: layer id → may the account see it; hidden: the ids it may not see (non-empty).
    """
    if endpoint in LIST_FILTERS and response.mimetype == "application/json":
        response.headers["Cache-Control"] = "private, no-store"
        list_key, id_key = LIST_FILTERS[endpoint]
        doc = json.loads(response.get_data())
        if isinstance(doc, dict) and isinstance(doc.get(list_key), list):
            if endpoint == "ogc.collections":  # a collection may be one geometry type of a layer
                hidden_ids = {c for layer_id in hidden for c in collection_ids(layer_id)}
                doc[list_key] = [x for x in doc[list_key] if not (isinstance(x, dict) and x.get(id_key) in hidden_ids)]
            doc[list_key] = [
                x for x in doc[list_key] if not (isinstance(x, dict) and x.get(id_key) and not visible(str(x[id_key])))
            ]
            if isinstance(doc.get("tree"), list):  # the map's layer tree (mapdata.layers)
                doc["tree"] = scrub_tree(doc["tree"], visible)
            response.set_data(json.dumps(doc, ensure_ascii=False))
            response.headers.pop("ETag", None)
    elif endpoint in PAGE_CONFIGS and response.mimetype == "text/html":
        filter_page_config(response, visible)
    elif endpoint == "ogc.collections" and response.mimetype == "text/html":
        drop_html_rows(response, [c for layer_id in hidden for c in collection_ids(layer_id)])
    elif endpoint == "ogc.openapi" and response.is_json:
        drop_openapi_collections(response, [c for layer_id in hidden for c in collection_ids(layer_id)])
