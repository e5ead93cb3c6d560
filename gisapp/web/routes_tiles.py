"""Vector tiles of the store's layers (``/tiles``): how the map draws large layers (a million 图斑).

| method and path | returns |
|---|---|
| ``GET /tiles/<id>/<z>/<x>/<y>.mvt`` | Mapbox Vector Tile 2.1 (``application/vnd.mapbox-vector-tile``) of XYZ tile z/x/y |

Tiles follow the XYZ scheme over Web Mercator (EPSG:3857), extent 4096, one MVT layer named after the
layer id, feature id = the feature's fid, every attribute a property
(:meth:`gisapp.store.layerstore.LayerStore.tile`). A tile with no feature, or a large layer's tile below
its ``tile_min_zoom``, is an empty 200 body. Errors are JSON (``{"error", "message"}``): 400
``invalid_tile``/``invalid_layer_id``, 404 ``layer_not_found``.
"""

from __future__ import annotations

from flask import Blueprint, Response

from gisapp.core.errors import InputError
from gisapp.web.context import current_store

URL_PREFIX = "/tiles"
blueprint = Blueprint("tiles", __name__)

MVT_MIME = "application/vnd.mapbox-vector-tile"
#: Browsers may keep a tile this long (seconds); the URL does not change when a layer is re-imported.
MAX_AGE_S = 60


def _int(text: str, what: str) -> int:
    if not text.isdigit() or len(text) > 8:
        raise InputError(f"tile {what} must be a non-negative integer, got {text[:20]!r}", code="invalid_tile")
    return int(text)


@blueprint.get("/<layer_id>/<z>/<x>/<y>.mvt")
def tile(layer_id: str, z: str, x: str, y: str) -> Response:
    """One vector tile of a layer (file or large), see the module docstring.

    Raises:
        InputError: 400 ``invalid_tile`` (z, x or y not an integer or outside the grid), ``invalid_layer_id``;
            404 ``layer_not_found``.
    """
    data = current_store().tile(layer_id, _int(z, "z"), _int(x, "x"), _int(y, "y"))
    resp = Response(data, mimetype=MVT_MIME)
    resp.headers["Cache-Control"] = f"public, max-age={MAX_AGE_S}"
    return resp
