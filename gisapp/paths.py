"""Where the repository keeps its data.

Every path can be overridden by an environment variable so that tests and deployments
can point the app at another layer store without touching the code.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT: Path = Path(__file__).resolve().parent.parent


def _env_path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).resolve() if value else default


def layers_dir() -> Path:
    """Return the directory of built layers (``$GISAPP_LAYERS_DIR`` or ``<repo>/layers``)."""
    return _env_path("GISAPP_LAYERS_DIR", REPO_ROOT / "layers")


def zones_dir() -> Path:
    """Return the directory of zone definition files (``$GISAPP_ZONES_DIR`` or ``<repo>/zones``)."""
    return _env_path("GISAPP_ZONES_DIR", REPO_ROOT / "zones")


def data_dir() -> Path:
    """Return the directory of source facts (``<repo>/data``): official areas, seats, sources."""
    return REPO_ROOT / "data"


def plans_dir() -> Path:
    """Return the directory holding the plan texts (``$GISAPP_PLANS_DIR`` or ``<repo>/../shared/plans``).

    The plans are public documents kept beside the repository; the app itself only needs the
    quotations stored in the zone files, so a missing directory is not an error here.
    """
    return _env_path("GISAPP_PLANS_DIR", REPO_ROOT.parent / "shared" / "plans")


def static_dir() -> Path:
    """Return the directory of static assets served by the web app (``<repo>/static``)."""
    return REPO_ROOT / "static"


def templates_dir() -> Path:
    """Return the Jinja template directory (``<repo>/templates``)."""
    return REPO_ROOT / "templates"
