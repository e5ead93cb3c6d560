# Shared by serve.sh and test.sh: create .venv (if needed), install a requirements file into it, and
# install Debian's TrueType CJK font for figures (fonts-wqy-zenhei; `gisapp figure` and /api/figure
# answer with a one-line error naming it when it is missing). Usage: . scripts/_venv.sh REQUIREMENTS_FILE
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
echo "[setup] installing the Python packages of $1 into .venv (several minutes on a fresh machine)"
set +o pipefail
python -m pip install --disable-pip-version-check -r "$1" -e . 2>&1 |
  grep --line-buffered -E '^(Collecting|Installing collected|Successfully installed|ERROR|error)' | sed 's/^/  /'
status=${PIPESTATUS[0]}
set -o pipefail
if [ "$status" != 0 ]; then
  echo "[setup] pip install failed (exit $status)" >&2
  exit "$status"
fi
echo "[setup] Python packages ready"

# CJK font for print figures (TrueType, so PDF text stays extractable). Root only; waits for the dpkg lock.
. scripts/_apt.sh
if [ ! -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]; then
  apt_install "print figures (CJK font)" fonts-wqy-zenhei
  [ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || echo "WARNING: fonts-wqy-zenhei is not installed: figures (gisapp figure) will fail until it is" >&2
fi
