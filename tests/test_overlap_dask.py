"""The Dask (dask-geopandas) engine on a LocalCluster of 2 workers equals the in-process run."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gisapp.analysis import service
from gisapp.analysis.overlap import dask_overlap_check
from tests.fixtures.overlap import builders as b
from tests.helpers import BUNDLED

pytest.importorskip("dask_geopandas")


def _grid_parquet() -> bytes:
    """1 600 parcels of 60 m × 60 m over the red-line block ZS-IL-01 (EPSG:4547), ids P0000…"""
    x0, y0 = b.ORIGIN[0] - 1200.0, b.ORIGIN[1] - 1200.0
    xs, ys = np.meshgrid(np.arange(40) * 60.0 + x0, np.arange(40) * 60.0 + y0)
    boxes = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + 60.0, ys.ravel() + 60.0)
    gdf = gpd.GeoDataFrame({"parcel_id": [f"P{i:04d}" for i in range(len(boxes))]}, geometry=boxes, crs="EPSG:4547")
    buf = io.BytesIO()
    gdf.to_parquet(buf)
    return buf.getvalue()


def test_dask_local_cluster_gives_identical_results():
    data = _grid_parquet()
    targets = ["zs-industrial-redline", "zs-towns"]
    local, info_local = service.overlap_check(data, targets=targets, store=BUNDLED)
    dist, info_dask = dask_overlap_check(data, targets=targets, partitions=4, store=BUNDLED)
    assert info_dask["engine"] == {"kind": "dask", "scheduler": "LocalCluster", "workers": 2, "partitions": 4}
    assert info_local["summary"]["overlapping_count"] > 100  # the grid does cross the block's edge
    cols = ["parcel_id", "target", "overlap_m2", "overlap_mu", "overlap_pct", "features", "towns", "overlaps"]
    pd.testing.assert_frame_equal(pd.DataFrame(local[cols]), pd.DataFrame(dist[cols]))
    assert info_local["summaries"] == info_dask["summaries"]
    assert shapely.equals_exact(local.geometry.to_numpy(), dist.geometry.to_numpy(), tolerance=0).all()
