"""Discovery of capability modules, so that adding a capability touches no shared file."""

from __future__ import annotations

from typing import Any


def extension_modules(prefix: str, package: str = "gisapp") -> list[Any]:
    """Import every module of ``package`` whose name starts with ``prefix``, sorted by name.

    Capabilities add their CLI commands as ``gisapp/cli/<name>.py`` with a
    ``register(subparsers)`` function, and their HTTP routes as ``gisapp/web/routes_<name>.py``
    with a ``blueprint`` (and optional ``URL_PREFIX``), so that adding one touches no shared file.
    """
    import importlib
    import pkgutil

    pkg = importlib.import_module(package)
    names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if m.name.startswith(prefix))
    return [importlib.import_module(f"{package}.{n}") for n in names]
