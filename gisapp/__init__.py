"""gisapp: spatial structures of Pearl River Delta five-year plans as vector layers.

The core modules (``structures``, ``metrics``, ``overlap``, ``export`` …) know nothing of
Flask; :mod:`gisapp.web` and :mod:`gisapp.cli` are thin layers over them.
"""

__version__ = "0.1.0"
