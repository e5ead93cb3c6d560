"""Input and output: the reader and writer registries, export formats, GDAL policy, isolated reads."""
