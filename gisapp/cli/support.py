"""What every ``gisapp`` subcommand module shares: reading input, writing output, the settings and
the layer store of one invocation. Imported by :mod:`gisapp.cli` and the ``cli_*`` modules (never
the other way round, so the CLI modules form no import cycle)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from gisapp.core.errors import InputError
from gisapp.core.settings import Settings
from gisapp.store.backends import open_backend
from gisapp.store.layerstore import LayerStore

EXIT_INPUT = 2


def write_output(text: str, output: str | None) -> None:
    """Write ``text`` to the file ``output`` (UTF-8), or to stdout when ``output`` is None."""
    if output:
        Path(output).write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def write_atomic(data: bytes | Callable[[BinaryIO], None], path: str | Path) -> None:
    """Write ``data`` to the file ``path`` (parent folders created) through a temporary file in the same
    folder and a rename, so a failed command never leaves a half-written output.

    ``data`` is the bytes, or a function writing them into the open file (a large file then never
    exists whole in memory)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_input(path: str) -> bytes:
    """Read a file's bytes (``-`` = stdin; a ``.gdb`` folder is zipped in memory, as its upload would be);
    raise InputError ``missing_file`` when absent."""
    if path == "-":
        return sys.stdin.buffer.read()
    p = Path(path)
    if p.is_dir() and p.name.lower().endswith(".gdb"):
        from gisapp.io.readers.safety import zip_gdb_folder

        return zip_gdb_folder(p)
    if not p.is_file():
        raise InputError(f"no such file: {path}", code="missing_file")
    return p.read_bytes()


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings of this invocation: ``--store DIR`` (where the command has it) → environment → defaults.

    Raises:
        InputError: ``invalid_setting`` for a malformed environment value.
    """
    store = getattr(args, "store", None)
    return Settings.load({"GISAPP_LAYERS_DIR": store} if store else None)


def store_of(args: argparse.Namespace) -> LayerStore:
    """The :class:`~gisapp.store.layerstore.LayerStore` of this invocation (see :func:`settings_of`), with
    the large-layer backend the settings choose (PostGIS when ``GISAPP_DATABASE_URL`` is set, else GeoPackage)."""
    settings = settings_of(args)
    return LayerStore(settings.layers_dir, open_backend(settings.layers_dir, settings.database_url or None))
