"""Overlap analysis (压占分析): parcels against any polygon layer of the store.

For every parcel and every target (the red line, a structure's zones, the towns, a filtered
subset such as the red line of one tier): the area the parcel shares with the target (m², 公顷,
亩, % of the parcel), the ids and names of the touched features, and the 镇街 the parcel lies in;
and a summary per target. All areas are planar in EPSG:4547 (CGCS2000 / 3-degree GK CM 114E).

Modules:

* :mod:`~gisapp.analysis.overlap.targets` — targets (:class:`ControlLayer`) from the store or from a frame;
* :mod:`~gisapp.analysis.overlap.engine` — the pairs and areas (STRtree, prepared geometries, thread pool);
* :mod:`~gisapp.analysis.overlap.result` — :class:`TargetResult`, :class:`OverlapAnalysis`, the result table;
* :mod:`~gisapp.analysis.overlap.citations` — the plan sentences cited with the results;
* :mod:`~gisapp.analysis.overlap.verdicts` — each control line's verdict on each parcel (its ``overlap`` rules);
* :mod:`~gisapp.analysis.overlap.usecase` — :func:`run_overlap`: any parcel file × targets of a store;
* :mod:`~gisapp.analysis.overlap.dask_engine` — the same engine on Dask.

The names below are the package's public interface.
"""

from gisapp.analysis.overlap.citations import plan_rules
from gisapp.analysis.overlap.dask_engine import dask_overlap_check, dask_pair_function
from gisapp.analysis.overlap.engine import PairFunction, analyse, analyse_arrays, measure_target, overlap_pairs
from gisapp.analysis.overlap.result import OverlapAnalysis, TargetResult
from gisapp.analysis.overlap.targets import (
    ControlLayer,
    control_from_frame,
    default_targets,
    expand_targets,
    load_control,
    parse_target_spec,
    target_sets,
    towns_control,
)
from gisapp.analysis.overlap.usecase import output_crs_of, overlap_table, run_overlap

__all__ = [
    "ControlLayer",
    "OverlapAnalysis",
    "PairFunction",
    "TargetResult",
    "analyse",
    "analyse_arrays",
    "control_from_frame",
    "dask_overlap_check",
    "dask_pair_function",
    "default_targets",
    "expand_targets",
    "load_control",
    "measure_target",
    "output_crs_of",
    "overlap_pairs",
    "overlap_table",
    "parse_target_spec",
    "plan_rules",
    "run_overlap",
    "target_sets",
    "towns_control",
]
