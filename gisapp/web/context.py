"""What the current app owns: its :class:`~gisapp.core.settings.Settings` and :class:`~gisapp.store.layerstore.LayerStore`.

Routes call :func:`current_store` and :func:`current_settings` instead of reading paths or the
environment, so two apps in one process (two stores) never see each other's layers.
"""

from __future__ import annotations

from flask import current_app

from gisapp.core.settings import Settings
from gisapp.store.layerstore import LayerStore

STORE_KEY = "gisapp.store"
SETTINGS_KEY = "gisapp.core.settings"


def current_store() -> LayerStore:
    """The layer store of the app handling the request (set by :func:`gisapp.web.create_app`)."""
    return current_app.extensions[STORE_KEY]


def current_settings() -> Settings:
    """The settings of the app handling the request (set by :func:`gisapp.web.create_app`)."""
    return current_app.extensions[SETTINGS_KEY]
