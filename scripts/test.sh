#!/usr/bin/env bash
# One command: install into .venv (plus the Debian clients the tests use) and run lint, type check + all tests.
set -euo pipefail
. "$(dirname "$0")/_venv.sh" requirements-dev.txt
# Debian tools the tests use as real clients, in one apt transaction (progress printed; large only on a fresh
# machine): chromium (browser tests, PDF check), gdal-bin (ogrinfo, ogr2ogr), PostgreSQL 15 + PostGIS 3
# (tests/pg.py starts a throwaway cluster on a unix socket), headless QGIS 3.22 (python3-qgis with
# qgis-providers for OAPIF, ~1 GB: tests/test_qgis.py) and curl (tests/test_interop_commands.py).
. scripts/_apt.sh
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v ogrinfo >/dev/null || missing+=(gdal-bin)
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
[ -f /usr/share/postgresql/15/extension/postgis.control ] || missing+=(postgresql-15-postgis-3)
/usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1 || missing+=(python3-qgis qgis-providers)
command -v curl >/dev/null || missing+=(curl)
apt_install "the tests' real clients" "${missing[@]}"
ruff check gisapp tests benchmarks scripts
ruff format --check gisapp tests benchmarks scripts
echo "[check] import contracts (lint-imports; docs/architecture.md)"
lint-imports --no-cache
# Type check the package (settings and the checked files: [tool.mypy] in pyproject.toml); errors fail the run
echo "[types] mypy"
mypy
# One pytest worker per core (pytest-xdist): the suite is mostly browsers, servers and subprocesses.
exec python -m pytest -q -n auto --dist worksteal "$@"
