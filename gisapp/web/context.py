"""What the current app owns: its :class:`~gisapp.settings.Settings` and :class:`~gisapp.layerstore.LayerStore`.

Routes call :func:`current_store` and :func:`current_settings` instead of reading paths or the
environment, so two apps in one process (two stores) never see each other's layers.
"""

from __future__ import annotations

from flask import current_app

from gisapp.layerstore import LayerStore
from gisapp.settings import Settings

STORE_KEY = "gisapp.store"
SETTINGS_KEY = "gisapp.settings"


def current_store() -> LayerStore:
    """The layer store of the app handling the request (set by :func:`gisapp.web.create_app`)."""
    return current_app.extensions[STORE_KEY]


def current_settings() -> Settings:
    """The settings of the app handling the request (set by :func:`gisapp.web.create_app`)."""
    return current_app.extensions[SETTINGS_KEY]
