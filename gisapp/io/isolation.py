"""Run one reader in a separate, resource-limited process (issue 11 §2).

With ``Limits.isolate`` the GDAL-backed readers run in a child process with ``RLIMIT_AS``
(memory), ``RLIMIT_CPU`` and ``RLIMIT_FSIZE`` set from the :class:`~gisapp.core.limits.Limits`, and a
wall-clock timeout: a pathological file costs the child, and the request gets a JSON 413/422
instead of a killed worker. The result (or the :class:`~gisapp.core.errors.InputError`) comes back
pickled through a pipe.

Children come from :mod:`multiprocessing`'s *forkserver*, a single-threaded process started once
per server process with the readers already imported: the web server's workers run several
threads (gunicorn ``gthread``), and a plain :func:`os.fork` of a threaded process may copy a lock
that another thread held (GDAL's driver manager, malloc) into a child that then waits forever.
A child forked from the forkserver starts from a clean, single-threaded state, in a few
milliseconds.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import resource
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from gisapp.core.errors import InputError
from gisapp.core.limits import Limits

#: Modules the forkserver imports once, so that each child starts with the readers loaded.
PRELOAD = [
    "gisapp.io.readers",
    "gisapp.io.readers.ogr",
    "gisapp.io.readers.shapefile",
    "gisapp.io.readers.dxf",
    "gisapp.analysis.zonalstats",
]


def _limit(kind: int, value: int) -> None:
    soft, hard = resource.getrlimit(kind)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(kind, (value, hard))


def _child(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...], limits: Limits) -> None:
    """The child's side: apply the limits, run ``fn``, send ``("ok", result)`` or the error."""
    _limit(resource.RLIMIT_AS, limits.memory_bytes)
    _limit(resource.RLIMIT_CPU, limits.cpu_s)
    _limit(resource.RLIMIT_FSIZE, limits.file_bytes)
    try:
        payload: tuple[str, Any] = ("ok", fn(*args))
    except InputError as exc:
        payload = ("input_error", (exc.message, exc.code, exc.status))
    except MemoryError:
        payload = ("input_error", ("the file needs too much memory to read", "too_large", 413))
    except Exception as exc:  # noqa: BLE001  (reported as one line, no traceback)
        payload = ("input_error", (f"cannot read the file ({type(exc).__name__})", "unreadable_file", 422))
    try:
        conn.send(payload)
    except MemoryError:
        conn.send(("input_error", ("the file needs too much memory to read", "too_large", 413)))
    conn.close()


def _context() -> multiprocessing.context.ForkServerContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def run_isolated(fn: Callable[..., Any], args: tuple[Any, ...], limits: Limits) -> Any:
    """Return ``fn(*args)`` computed in a resource-limited child process.

    Args:
        fn: a module-level function (it is pickled to the child by reference).
        args: its arguments (pickled; e.g. the upload's bytes).
        limits: ``timeout_s`` (wall clock), ``cpu_s``, ``memory_bytes``, ``file_bytes``.

    Returns:
        what ``fn`` returned (pickled back).

    Raises:
        InputError: the child's own InputError; ``too_slow`` (422) after ``limits.timeout_s``;
            ``too_large`` (413) when the child ran out of memory or file size; ``too_complex``
            (422) when it used up its CPU time or died otherwise.
    """
    ctx = _context()
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(sender, fn, args, limits), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(limits.timeout_s):
            process.kill()
            raise InputError(f"reading the file took longer than {limits.timeout_s:g} s", code="too_slow", status=422)
        try:
            kind, value = receiver.recv()
        except (EOFError, OSError):
            kind, value = "died", None
    finally:
        receiver.close()
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()
    if kind == "died":
        code = -(process.exitcode or 0)
        if code == signal.SIGXCPU:
            raise InputError("reading the file used too much CPU time", code="too_complex", status=422)
        if code == signal.SIGXFSZ:
            raise InputError("reading the file wrote too much", code="too_large", status=413)
        raise InputError("the file could not be read within the server's limits", code="too_complex", status=422)
    if kind == "input_error":
        message, code_name, http_status = value
        raise InputError(message, code=code_name, status=http_status)
    return value
