# Shared by the set-up scripts: install Debian packages when we are root, with progress on the terminal.
# Usage: . scripts/_apt.sh; apt_install "what they are for" PACKAGE...
# Waits for the dpkg lock (another install running) instead of failing; retries once after an update.
apt_install() {
  local what=$1
  shift
  [ $# -gt 0 ] || return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "WARNING: missing $* ($what) and not root: what needs them will be skipped" >&2
    return 0
  fi
  echo "[setup] installing Debian packages for $what (waits for the dpkg lock): $*"
  local attempt
  for attempt in 1 2; do
    apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null 2>&1 || true
    set +o pipefail
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 install -y "$@" 2>&1 |
      awk '/^Need to get/ {print "  " $0; fflush()}
           /^Get:/ {n++; if (n % 50 == 0) {print "  downloaded " n " files"; fflush()}}
           /^Setting up/ {m++; if (m % 25 == 0) {print "  set up " m " packages"; fflush()}}
           /^E:/ {print "  " $0; fflush()}
           END {print "  " n+0 " files downloaded, " m+0 " packages set up"}'
    local status=${PIPESTATUS[0]}
    set -o pipefail
    if [ "$status" = 0 ]; then
      echo "[setup] Debian packages ready ($what)"
      return 0
    fi
    echo "[setup] apt-get failed (exit $status), attempt $attempt" >&2
    sleep 5
  done
  echo "WARNING: could not install $* ($what): what needs them will be skipped" >&2
}
