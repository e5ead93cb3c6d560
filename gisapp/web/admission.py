"""Admission of analyses: a bounded number run at once per server process, the rest wait or get 503.

Analyses (every ``POST``: overlap, reports, accounting, zonal statistics, export of a result) can
take seconds of CPU; map tiles, metadata and ``/api/health`` take milliseconds. A process serves
``threads`` requests at once (gunicorn ``gthread`` workers); at most ``threads - 1`` of them may be
analyses, so one thread is always free for the health check and the map. An analysis that finds no
free slot waits up to ``wait_s`` seconds, then gets ``503 {"error": "busy", …}`` with
``Retry-After`` — never a killed worker or a hung connection.
"""

from __future__ import annotations

import threading

from flask import current_app

from gisapp.core.errors import InputError
from gisapp.core.limits import DEFAULT_LIMITS, Limits


class ServerBusy(InputError):
    """Every analysis slot stayed taken for the whole wait (HTTP 503, ``Retry-After``)."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(
            f"the server is busy with other analyses (waited {wait_s:g} s): try again shortly", code="busy", status=503
        )


class AnalysisGate:
    """A counting gate for analyses in one process (thread-safe).

    Args:
        slots: analyses that may run at once (≥ 1).
        wait_s: how long a request waits for a slot before :class:`ServerBusy` (seconds, ≥ 0).

    Raises:
        ValueError: when ``slots`` < 1 or ``wait_s`` < 0.
    """

    def __init__(self, slots: int, wait_s: float) -> None:
        if slots < 1 or wait_s < 0:
            raise ValueError("an analysis gate needs slots >= 1 and wait_s >= 0")
        self.slots = slots
        self.wait_s = wait_s
        self._sem = threading.BoundedSemaphore(slots)

    def enter(self) -> None:
        """Take a slot, waiting up to ``wait_s``.

        Raises:
            ServerBusy: no slot became free in time.
        """
        if not self._sem.acquire(timeout=self.wait_s):
            raise ServerBusy(self.wait_s)

    def leave(self) -> None:
        """Give back a slot taken by :meth:`enter`."""
        self._sem.release()


def request_limits() -> Limits:
    """The bounds an upload of the current request is read under (:class:`gisapp.core.limits.Limits`).

    The app's :data:`gisapp.core.limits.DEFAULT_LIMITS`, with GDAL-backed formats read in an isolated,
    resource-limited process unless ``GISAPP_ISOLATE_READS`` is false (see :mod:`gisapp.io.isolation`).
    """
    found = current_app.extensions.get("gisapp.core.limits")
    return found if isinstance(found, Limits) else DEFAULT_LIMITS
