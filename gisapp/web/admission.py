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
import time

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


class TooManyRequests(InputError):
    """An account went over its request rate or its analyses at once (HTTP 429, ``Retry-After``)."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message, code="too_many_requests", status=429)
        self.retry_after_s = retry_after_s


class UserLimits:
    """Per-account limits in one process (thread-safe): a request rate and analyses at once.

    Args:
        per_minute: requests a minute per account (a token bucket of that size refilled evenly;
            0: no limit).
        analyses: analyses (audited POSTs) one account may run at once (0: no limit).
    """

    def __init__(self, per_minute: int, analyses: int) -> None:
        self.per_minute = max(0, per_minute)
        self.analyses = max(0, analyses)
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # name → (tokens, monotonic time)
        self._running: dict[str, int] = {}

    def hit(self, name: str) -> None:
        """Count one request of ``name``.

        Raises:
            TooManyRequests: the account's bucket is empty (``Retry-After``: seconds until one request refills).
        """
        if not self.per_minute:
            return
        now = time.monotonic()
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(name, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[name] = (tokens, now)
                raise TooManyRequests(
                    f"请求过于频繁：每分钟最多 {self.per_minute} 次 — more than {self.per_minute} requests a minute",
                    max(1, int((1.0 - tokens) / rate + 0.999)),
                )
            self._buckets[name] = (tokens - 1.0, now)

    def enter(self, name: str) -> None:
        """Start an analysis of ``name``.

        Raises:
            TooManyRequests: ``name`` already runs ``analyses`` analyses.
        """
        with self._lock:
            running = self._running.get(name, 0)
            if self.analyses and running >= self.analyses:
                raise TooManyRequests(
                    f"同时进行的分析已达上限 {self.analyses} 个 — at most {self.analyses} analyses at once per user", 5
                )
            self._running[name] = running + 1

    def leave(self, name: str) -> None:
        """End an analysis started by :meth:`enter`."""
        with self._lock:
            left = self._running.get(name, 1) - 1
            if left > 0:
                self._running[name] = left
            else:
                self._running.pop(name, None)
