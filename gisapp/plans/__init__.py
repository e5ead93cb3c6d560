"""Plans as data: zone-file schema, geometry methods, towns, base layers, build, validate, evidence."""
