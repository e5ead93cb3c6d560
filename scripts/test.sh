#!/usr/bin/env bash
# One command: install into .venv (plus Debian's chromium for the browser tests) and run lint + all tests.
set -euo pipefail
. "$(dirname "$0")/_venv.sh" requirements-dev.txt
# Debian tools the tests use as real clients: chromium (browser tests, PDF check), gdal-bin (ogrinfo).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v ogrinfo >/dev/null || missing+=(gdal-bin)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian packages for the tests: ${missing[*]}"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "WARNING: missing ${missing[*]} and not root: the tests that need them will be skipped" >&2
  fi
fi
ruff check gisapp tests benchmarks scripts
ruff format --check gisapp tests benchmarks scripts
exec python -m pytest -q "$@"
