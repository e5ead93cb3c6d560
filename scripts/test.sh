#!/usr/bin/env bash
# One command: install into .venv (plus Debian's chromium for the browser tests) and run lint, type check + all tests.
set -euo pipefail
. "$(dirname "$0")/_venv.sh" requirements-dev.txt
# Debian tools the tests use as real clients: chromium (browser tests, PDF check), gdal-bin (ogrinfo).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v ogrinfo >/dev/null || missing+=(gdal-bin)
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
ruff check gisapp tests benchmarks scripts
ruff format --check gisapp tests benchmarks scripts
echo "[check] import contracts (lint-imports; docs/architecture.md)"
lint-imports --no-cache
# Type check the package (settings and the checked files: [tool.mypy] in pyproject.toml); errors fail the run
echo "[types] mypy"
mypy
# One pytest worker per core (pytest-xdist): the suite is mostly browsers, servers and subprocesses.
exec python -m pytest -q -n auto "$@"
