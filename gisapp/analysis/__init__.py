"""Analyses: overlap (压占分析), parcels, control-line accounting, zonal statistics, metrics, use cases."""
