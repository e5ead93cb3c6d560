"""Errors raised by the core for bad input.

The web layer turns :class:`InputError` into HTTP 4xx with a JSON body; the CLI turns it
into exit code 2 and one line on stderr. Nothing else in the core should reach a user as a
traceback.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from a user: a file, a geometry, a parameter.

    Args:
        message: one sentence a user can act on (Chinese first is welcome, English is fine).
        code: a stable machine-readable code, e.g. ``"invalid_geojson"``, ``"unknown_crs"``.
        status: the HTTP status the web layer should answer with (400, 404, 413, 415, 422).
    """

    def __init__(self, message: str, code: str = "invalid_input", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status

    def to_dict(self) -> dict[str, str]:
        """Return the JSON body for this error: ``{"error": code, "message": message}``."""
        return {"error": self.code, "message": self.message}


class LayerNotFound(InputError):
    """A layer id that the layer store does not hold (HTTP 404)."""

    def __init__(self, layer_id: str) -> None:
        super().__init__(f"unknown layer '{layer_id}'", code="layer_not_found", status=404)


#: What reading a file through GDAL (pyogrio, rasterio) or Arrow raises on bad content, and nothing
#: else: pyogrio's ``DataSourceError``/``DataLayerError`` family are ``RuntimeError``s, rasterio's
#: ``RasterioIOError`` and pyarrow's ``ArrowIOError`` are ``OSError``s, pyarrow's ``ArrowInvalid``
#: and shapely's/pandas' complaints about malformed values are ``ValueError``/``TypeError``s.
#: Readers turn these into :class:`InputError` (4xx); anything else is a bug and reaches the 500 handler.
READ_ERRORS: tuple[type[Exception], ...] = (RuntimeError, OSError, ValueError, TypeError)
