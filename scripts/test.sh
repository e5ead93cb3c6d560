#!/usr/bin/env bash
# One command: install into .venv (plus Debian's chromium for the browser tests) and run lint + all tests.
set -euo pipefail
. "$(dirname "$0")/_venv.sh" requirements-dev.txt
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian chromium for the browser tests…"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "WARNING: /usr/bin/chromium missing and not root: browser tests will be skipped" >&2
  fi
fi
ruff check gisapp tests benchmarks scripts
ruff format --check gisapp tests benchmarks scripts
exec python -m pytest -q "$@"
