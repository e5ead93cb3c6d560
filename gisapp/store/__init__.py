"""The layer store: files, versions and transactions, consistency checks (LayerStore, VersionedStore)."""
