"""Core: errors, units, CRS handling, settings, paths, limits, small shared helpers. Imports nothing of ours outside core."""
