"""``gisapp export``: a layer as a file other GIS tools read."""

from __future__ import annotations

import argparse
from typing import Any

from gisapp.cli import write_output


def cmd_export(args: argparse.Namespace) -> int:
    """``gisapp export LAYER [-o FILE]``: the layer as RFC 7946 GeoJSON."""
    from gisapp.export import layer_geojson
    from gisapp.layerstore import check_layer_id

    write_output(layer_geojson(check_layer_id(args.layer)), args.output)
    return 0


def register(sub: Any) -> None:
    """Add ``export`` to the ``gisapp`` sub-parsers."""
    s = sub.add_parser("export", help="export a layer as RFC 7946 GeoJSON")
    s.add_argument("layer")
    s.add_argument("-o", "--output")
    s.set_defaults(func=cmd_export)
