"""Where the repository keeps its data.

The configurable folders (layer store, zones, plans) come from :class:`gisapp.core.settings.Settings`
(environment → default); these functions are the defaults of commands that are given no folder.
The web app and each CLI invocation hold their own :class:`~gisapp.core.settings.Settings` instead.
"""

from __future__ import annotations

from pathlib import Path

from gisapp.core.settings import REPO_ROOT as _SETTINGS_ROOT
from gisapp.core.settings import Settings

REPO_ROOT: Path = _SETTINGS_ROOT


def layers_dir() -> Path:
    """Return the directory of built layers (``$GISAPP_LAYERS_DIR`` or ``<repo>/layers``)."""
    return Settings.load().layers_dir


def zones_dir() -> Path:
    """Return the directory of zone definition files (``$GISAPP_ZONES_DIR`` or ``<repo>/zones``)."""
    return Settings.load().zones_dir


def data_dir() -> Path:
    """Return the directory of source facts (``<repo>/data``): official areas, seats, sources."""
    return REPO_ROOT / "data"


def plans_dir() -> Path:
    """Return the directory holding the plan texts (``$GISAPP_PLANS_DIR`` or ``<repo>/../shared/plans``).

    The plans are public documents kept beside the repository; the app itself only needs the
    quotations stored in the zone files, so a missing directory is not an error here.
    """
    return Settings.load().plans_dir


def static_dir() -> Path:
    """Return the directory of static assets served by the web app (``<repo>/static``)."""
    return REPO_ROOT / "static"


def templates_dir() -> Path:
    """Return the Jinja template directory (``<repo>/templates``)."""
    return REPO_ROOT / "templates"
