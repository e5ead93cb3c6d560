"""A throwaway PostgreSQL + PostGIS cluster for the tests: initdb in a temp dir, a unix socket only.

The tests never touch a system database: :func:`throwaway_cluster` creates a cluster in a fresh
folder under the system temp dir, starts it listening on a unix socket in that folder only (no TCP),
creates a database with the ``postgis`` extension, yields its libpq URI and removes everything at
the end. PostgreSQL refuses to run as root, so as root (``.ci/run``) the folder is given to the
``postgres`` user and the server runs under ``runuser -u postgres``. The binaries are Debian's
(``postgresql-15`` + ``postgresql-15-postgis-3``, installed by ``scripts/test.sh``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

PG_BIN_DIRS = [Path(f"/usr/lib/postgresql/{v}/bin") for v in (15, 16, 17, 14, 13)]
POSTGIS_CONTROL = "postgis.control"
DATABASE = "gisapp_test"


def find_pg_bin() -> Path | None:
    """The first ``/usr/lib/postgresql/<v>/bin`` that has ``initdb`` and whose share dir has PostGIS."""
    for bin_dir in PG_BIN_DIRS:
        share = Path("/usr/share/postgresql") / bin_dir.parent.name / "extension" / POSTGIS_CONTROL
        if (bin_dir / "initdb").exists() and share.exists():
            return bin_dir
    return None


def unavailable_reason() -> str | None:
    """Why no cluster can be started here (None when one can)."""
    if find_pg_bin() is not None:
        return None
    return (
        "PostgreSQL + PostGIS binaries absent (/usr/lib/postgresql/15/bin, postgresql-15-postgis-3); "
        "scripts/test.sh installs them when run as root"
    )


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Start a private cluster; yield the libpq URI of a PostGIS-enabled database on its socket.

    Raises:
        RuntimeError: the binaries are missing, or initdb / start-up fails (with the server log).
    """
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise RuntimeError(unavailable_reason())
    as_root = os.geteuid() == 0
    # as root the server runs as postgres, which must reach the folder: /tmp, not a private $TMPDIR
    root = Path(tempfile.mkdtemp(prefix="gisapp-pg-", dir="/tmp" if as_root else None))
    prefix: list[str] = []
    if as_root:
        pg_user = pwd.getpwnam("postgres")
        os.chown(root, pg_user.pw_uid, pg_user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, log = root / "data", root / "server.log"

    def run(*args: str) -> None:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, cwd=root, check=False)
        if done.returncode != 0:
            server_log = log.read_text("utf-8", "replace") if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}{server_log}")

    started = False
    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        options = (
            f"-k {root} -c listen_addresses='' -c port=5432 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=40 -c shared_buffers=64MB"
        )
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
        started = True
        psql = [str(bin_dir / "psql"), "-h", str(root), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]
        run(*psql, "-d", "postgres", "-c", f"CREATE DATABASE {DATABASE}")
        run(*psql, "-d", DATABASE, "-c", "CREATE EXTENSION postgis")
        yield f"postgresql://postgres@/{DATABASE}?host={root}&port=5432"
    finally:
        if started:
            subprocess.run(
                [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)
