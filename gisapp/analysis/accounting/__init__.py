"""Control-line accounting: rules as cited data, accounting tables, adjustments, land-use classes.

Modules:

* :mod:`~gisapp.analysis.accounting.rules`: rule sets (``rules/*.yaml``) and their evaluation;
* :mod:`~gisapp.analysis.accounting.areas`: planar (EPSG:4547) and ellipsoidal (GRS80) areas, side by side;
* :mod:`~gisapp.analysis.accounting.tables`: totals by tier, floor, headroom, colour status, per unit, per zone;
* :mod:`~gisapp.analysis.accounting.adjustments`: 占补平衡 proposals and the comparison of two line versions;
* :mod:`~gisapp.analysis.accounting.landuse`: classification dictionaries (``data/landuse``), class areas, industrial shares;
* :mod:`~gisapp.analysis.accounting.results`: the typed results (pydantic) of all of the above and of
  zonal statistics, and their one serialiser ``to_json_dict()``;
* :mod:`~gisapp.analysis.accounting.service`: the use cases the CLI and the web layer call.

Raster zonal statistics are in :mod:`gisapp.analysis.zonalstats`. The core knows nothing of Flask.
"""
