#!/usr/bin/env bash
# One command: install into .venv (plus Debian's chromium for the browser tests) and run lint, type check + all tests.
set -euo pipefail
. "$(dirname "$0")/_venv.sh" requirements-dev.txt
# Debian tools the tests use as real clients: chromium (browser tests, PDF check), gdal-bin (ogrinfo),
# PostgreSQL 15 + PostGIS 3 (tests/pg.py starts a throwaway cluster on a unix socket for the PostGIS backend).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v ogrinfo >/dev/null || missing+=(gdal-bin)
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
[ -f /usr/share/postgresql/15/extension/postgis.control ] || missing+=(postgresql-15-postgis-3)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[setup] installing Debian packages for the tests (waits for the dpkg lock): ${missing[*]}"
    apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
    echo "[setup] Debian packages ready"
  else
    echo "WARNING: missing ${missing[*]} and not root: the tests that need them will be skipped" >&2
  fi
fi
# Real clients (tests/test_qgis.py, tests/test_interop_commands.py): headless QGIS from Debian (python3-qgis, which
# brings qgis-providers with the OAPIF provider; large, so installed only when missing) and curl.
clients=()
/usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1 || clients+=(python3-qgis qgis-providers)
command -v curl >/dev/null || clients+=(curl)
if [ ${#clients[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[setup] installing the client tools for the tests (QGIS is ~1 GB: a few minutes; waits for the dpkg lock): ${clients[*]}"
    apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${clients[@]}" >/dev/null
    echo "[setup] client tools ready"
  else
    echo "WARNING: missing ${clients[*]} and not root: the tests that need them will be skipped" >&2
  fi
fi
ruff check gisapp tests benchmarks scripts
ruff format --check gisapp tests benchmarks scripts
echo "[check] import contracts (lint-imports; docs/architecture.md)"
lint-imports --no-cache
# Type check the package (settings and the checked files: [tool.mypy] in pyproject.toml); errors fail the run
echo "[types] mypy"
mypy
# One pytest worker per core (pytest-xdist): the suite is mostly browsers, servers and subprocesses.
exec python -m pytest -q -n auto "$@"
