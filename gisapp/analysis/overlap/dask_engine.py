"""The overlap engine on Dask (dask-geopandas): the same pairs, computed by worker processes.

:func:`dask_pair_function` partitions the parcels and runs the in-process engine's chunk
(:func:`gisapp.analysis.overlap.engine._pairs_chunk`) on every partition; :func:`dask_overlap_check` is
:func:`gisapp.analysis.service.overlap_check` with that engine, on a given scheduler or a local cluster.
Dask is imported only when these functions run.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisapp.analysis.overlap.engine import PairFunction, _pairs_chunk
from gisapp.analysis.overlap.targets import ControlLayer
from gisapp.analysis.overlap.usecase import overlap_table
from gisapp.core.crs import PROJECTED
from gisapp.core.errors import InputError

#: Targets already rebuilt in this worker process, by ``spec:hash`` (a per-process cache of the workers).
_WORKER_CONTROLS: dict[str, ControlLayer] = {}


def _partition_pairs(part: pd.DataFrame, key: str, wkb: list[bytes]) -> pd.DataFrame:
    """Run on a Dask worker: the pairs of one partition (``pid`` = global parcel index)."""
    control = _WORKER_CONTROLS.get(key)
    if control is None:
        geoms = shapely.from_wkb(np.asarray(wkb, dtype=object))
        control = ControlLayer(key, key, geoms, np.arange(len(geoms)).astype(str), np.arange(len(geoms)).astype(str))
        _WORKER_CONTROLS[key] = control
    geoms = np.asarray(part.geometry.to_numpy(), dtype=object)
    ci, fi, area = _pairs_chunk(geoms, 0, control)
    return pd.DataFrame({"pid": part["pid"].to_numpy()[ci], "fid": fi, "area": area})


def dask_pair_function(client: Any, partitions: int) -> PairFunction:
    """An engine for :func:`measure_target` that runs :func:`overlap_pairs`' chunks on Dask.

    Args:
        client: a ``dask.distributed.Client``.
        partitions: number of partitions of the parcels (spatially contiguous chunks).

    Returns:
        a function ``(parcels, control) -> (parcel_index, feature_index, area_m2)`` giving the
        same pairs as the in-process engine (identical arithmetic per pair).
    """
    import dask_geopandas

    def run(parcels: np.ndarray, control: ControlLayer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        gdf = gpd.GeoDataFrame({"pid": np.arange(len(parcels))}, geometry=parcels, crs=PROJECTED)
        ddf = dask_geopandas.from_geopandas(gdf, npartitions=max(1, partitions))
        wkb = list(shapely.to_wkb(control.geometries))
        key = f"{control.spec}:{hash(tuple(wkb))}"
        meta = pd.DataFrame(
            {
                "pid": pd.Series([], dtype="int64"),
                "fid": pd.Series([], dtype="int64"),
                "area": pd.Series([], dtype="float64"),
            }
        )
        out = client.compute(ddf.map_partitions(_partition_pairs, key, wkb, meta=meta)).result()
        out = out.sort_values(["pid", "fid"], kind="stable")
        return out["pid"].to_numpy(np.int64), out["fid"].to_numpy(np.int64), out["area"].to_numpy(float)

    return run


def dask_overlap_check(
    data: bytes | str,
    filename: str | None = None,
    scheduler: str | None = None,
    partitions: int | None = None,
    **options: Any,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """:func:`gisapp.analysis.service.overlap_check` with the pairs computed on Dask (dask-geopandas).

    Args:
        data, filename, **options: as :func:`gisapp.analysis.service.overlap_check` (``workers`` ignored).
        scheduler: address of a running Dask scheduler (``tcp://host:8786``); default: a
            ``LocalCluster`` of 2 worker processes (1 thread each) started and stopped here.
        partitions: parcel partitions (default: 2 per worker).

    Returns:
        ``(result, info)`` exactly as :func:`gisapp.analysis.service.overlap_check`, plus
        ``info["engine"] = {"kind": "dask", "scheduler", "workers", "partitions"}``.

    Raises:
        InputError: as :func:`gisapp.analysis.service.overlap_check`; ``dask_unavailable`` when the
            scheduler cannot be reached.
    """
    from dask.distributed import Client, LocalCluster

    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="10s")
        else:
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
    except OSError as exc:
        raise InputError(f"cannot reach the Dask scheduler {scheduler}: {exc}", code="dask_unavailable") from exc
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        parts = partitions or 2 * n_workers
        options.pop("workers", None)
        result, info = overlap_table(data, filename, pair_function=dask_pair_function(client, parts), **options)
        info["engine"] = {
            "kind": "dask",
            "scheduler": scheduler or "LocalCluster",
            "workers": n_workers,
            "partitions": parts,
        }
        return result, info
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
