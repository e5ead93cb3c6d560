"""Run one reader in a forked child process with resource limits (issue 11 §2).

With ``Limits.isolate`` the GDAL-backed readers run in a child made by :func:`os.fork`, with
``RLIMIT_AS`` (memory), ``RLIMIT_CPU`` and ``RLIMIT_FSIZE`` set from the
:class:`~gisapp.limits.Limits`, and a wall-clock timeout: a pathological file costs the child,
and the request gets a JSON 413/422 instead of a killed worker. The result (or the
:class:`~gisapp.errors.InputError`) comes back pickled through a pipe.

Forking a process with threads copies only the calling thread: :mod:`gisapp.crsinfer` starts its
pyproj thread pool lazily and anew in a child, so nothing in the child waits on a thread that
does not exist there.
"""

from __future__ import annotations

import os
import pickle
import resource
import select
import signal
import time
from collections.abc import Callable
from typing import Any

from gisapp.errors import InputError
from gisapp.limits import Limits


def _limit(kind: int, value: int) -> None:
    soft, hard = resource.getrlimit(kind)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(kind, (value, hard))


def run_isolated(fn: Callable[..., Any], args: tuple[Any, ...], limits: Limits) -> Any:
    """Return ``fn(*args)`` computed in a forked, resource-limited child.

    Raises:
        InputError: the child's own InputError; ``too_slow`` (422) after ``limits.timeout_s``;
            ``too_large`` (413) when the child ran out of memory or file size; ``too_complex``
            (422) when it used up its CPU time or died otherwise.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            os.close(read_fd)
            _limit(resource.RLIMIT_AS, limits.memory_bytes)
            _limit(resource.RLIMIT_CPU, limits.cpu_s)
            _limit(resource.RLIMIT_FSIZE, limits.file_bytes)
            try:
                payload = ("ok", fn(*args))
            except InputError as exc:
                payload = ("input_error", (exc.message, exc.code, exc.status))
            except MemoryError:
                payload = ("input_error", ("the file needs too much memory to read", "too_large", 413))
            except Exception as exc:  # noqa: BLE001  (reported as one line, no traceback)
                payload = ("input_error", (f"cannot read the file ({type(exc).__name__})", "unreadable_file", 422))
            data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_fd, "wb") as out:
                out.write(data)
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + limits.timeout_s
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                raise InputError(
                    f"reading the file took longer than {limits.timeout_s:g} s", code="too_slow", status=422
                )
            ready, _, _ = select.select([read_fd], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(read_fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(read_fd)
        _, status = os.waitpid(pid, 0)
    if not chunks:
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
            raise InputError("reading the file used too much CPU time", code="too_complex", status=422)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXFSZ:
            raise InputError("reading the file wrote too much", code="too_large", status=413)
        raise InputError("the file could not be read within the server's limits", code="too_complex", status=422)
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "input_error":
        message, code, http_status = value
        raise InputError(message, code=code, status=http_status)
    return value
