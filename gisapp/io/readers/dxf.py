"""DXF reader (ezdxf): closed polylines and hatch boundaries become polygons.

* ``LWPOLYLINE`` and 2D ``POLYLINE`` entities that are closed (flag, or last vertex equal to
  the first) are parcels; arcs (bulges) are flattened to within 0.01 m.
* ``HATCH`` (and ``MPOLYGON``) boundary paths become polygons: the outermost path is the
  exterior, paths inside it are holes (ezdxf's ``make_polygon_structure``).
* a ``TEXT``/``MTEXT`` whose insertion point lies inside exactly one parcel labels it
  (``label``, used as the parcel id when the drawing has no other); the entity's layer is
  kept as ``dxf_layer``.

Text encoding: DXF R2007 and later are UTF-8; older files name their code page in
``$DWGCODEPAGE`` (``ANSI_936`` = GBK), which ezdxf honours. A pre-2007 file without a code page
whose text is not ASCII is decoded as UTF-8 if valid, else GBK (reported).
DXF carries no CRS: it is always given by the user or inferred from the coordinates.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import ezdxf
import numpy as np
import pandas as pd
import shapely
from ezdxf import recover
from ezdxf.entities import LWPolyline, MText, Polyline, Text
from ezdxf.entities.polygon import DXFPolygon
from ezdxf.path import from_hatch, make_path, make_polygon_structure
from shapely.geometry.base import BaseGeometry

from gisapp.core.errors import InputError
from gisapp.io.readers import RawInput

#: Maximum distance (drawing units, normally metres) between an arc and its flattened chord.
FLATTEN_DISTANCE = 0.01
_AREAS = ("LWPOLYLINE", "POLYLINE", "HATCH", "MPOLYGON")


def _load(data: bytes) -> tuple[ezdxf.document.Drawing, str]:
    try:
        doc, _ = recover.read(io.BytesIO(data))
    except (OSError, ezdxf.DXFStructureError, ValueError) as exc:
        raise InputError(f"not a readable DXF file: {exc}", code="unreadable_file") from exc
    note = f"DXF {doc.acad_release} ({doc.dxfversion}), text encoding {doc.encoding}"
    codepage = str(doc.header.get("$DWGCODEPAGE", "")).upper()
    if doc.dxfversion < "AC1021" and codepage in ("", "ANSI_1252") and not data.isascii():
        for enc in ("utf-8", "gbk"):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            doc = ezdxf.read(io.StringIO(text))
            note = f"DXF {doc.dxfversion} declares code page {codepage or 'none'}: text decoded as {enc.upper()}"
            break
    return doc, note


def _ring(path: ezdxf.path.Path) -> np.ndarray:
    pts = np.array([(v.x, v.y) for v in path.flattening(FLATTEN_DISTANCE)], dtype=float)
    return pts


def _polyline_polygon(entity: LWPolyline | Polyline) -> shapely.Polygon | None:
    if isinstance(entity, Polyline) and not entity.is_2d_polyline:
        return None
    pts = _ring(make_path(entity))
    if len(pts) < 3:
        return None
    closed = bool(getattr(entity, "closed", False) or entity.is_closed) or np.allclose(pts[0], pts[-1])
    return shapely.Polygon(pts) if closed else None


def _structure_polygons(group: Sequence[Any]) -> list[shapely.Polygon]:
    """``[exterior, [hole, island_group…], …]`` (ezdxf's nesting) → polygons (islands included)."""
    exterior = _ring(group[0])
    holes, islands = [], []
    for sub in group[1:]:
        subs = sub if isinstance(sub, list) else [sub]
        hole = _ring(subs[0])
        if len(hole) >= 3:
            holes.append(hole)
        for island in subs[1:]:
            islands += _structure_polygons(island if isinstance(island, list) else [island])
    return ([shapely.Polygon(exterior, holes)] if len(exterior) >= 3 else []) + islands


def _hatch_polygons(entity: DXFPolygon) -> list[shapely.Polygon]:
    out = []
    for group in make_polygon_structure(list(from_hatch(entity))):
        out += _structure_polygons(group)
    return out


def read_dxf(data: bytes, layer: str | None = None) -> RawInput:
    """Read parcels from a DXF drawing (model space).

    Args:
        data: the DXF file's bytes (ASCII or binary DXF).
        layer: read only entities on this DXF layer.

    Returns:
        a :class:`~gisapp.io.readers.RawInput` (``format = "dxf"``, ``crs = None``) with properties
        ``dxf_layer, dxf_entity, dxf_handle, label``.

    Raises:
        InputError: ``unreadable_file``; ``no_polygons`` when no closed polyline or hatch is found.
    """
    doc, note = _load(data)
    msp = doc.modelspace()
    geoms: list[BaseGeometry] = []
    rows: list[dict[str, str]] = []
    for entity in msp.query(" ".join(_AREAS)):
        if layer is not None and entity.dxf.layer != layer:
            continue
        if isinstance(entity, DXFPolygon):  # HATCH, MPOLYGON
            polys = _hatch_polygons(entity)
        elif isinstance(entity, LWPolyline | Polyline):
            poly = _polyline_polygon(entity)
            polys = [poly] if poly is not None else []
        else:  # the query asks for _AREAS only
            continue
        for poly in polys:
            geoms.append(poly)
            rows.append(
                {"dxf_layer": entity.dxf.layer, "dxf_entity": entity.dxftype(), "dxf_handle": entity.dxf.handle}
            )
    if not geoms:
        where = f" on layer '{layer}'" if layer else ""
        raise InputError(f"the DXF has no closed polyline or hatch{where}", code="no_polygons")
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = geoms
    labels: list[list[str]] = [[] for _ in geoms]
    texts = [
        (t.dxf.insert, t.dxf.text if isinstance(t, Text) else t.plain_text())
        for t in msp.query("TEXT MTEXT")
        if isinstance(t, Text | MText)
    ]
    if texts:
        tree = shapely.STRtree(arr)
        points = shapely.points([(p.x, p.y) for p, _ in texts])
        ti, gi = tree.query(points, predicate="within")
        for t, g in zip(ti, gi):
            labels[g].append(str(texts[t][1]).strip())
    props = pd.DataFrame(rows)
    props["label"] = ["、".join(x) for x in labels]
    ids = [x[0] if len(x) == 1 else None for x in labels]
    return RawInput(
        geometries=arr,
        properties=props,
        crs=None,
        crs_source="",
        format="dxf",
        ids=ids if any(i is not None for i in ids) else None,
        notes=[note, f"{len(geoms)} polygons from closed polylines and hatches"],
    )
