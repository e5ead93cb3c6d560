"""Load on the map server (issue 11): 8 and 32 clients × 60 s on 127.0.0.1, a realistic mix of requests.

Run on demand (about 5 minutes): ``python benchmarks/load_bench.py [--seconds 60] [--clients 8 32]``.

Each client loops over a mix of what the map and the analysts send — single-parcel overlap (POST), map
features by bounding box, OGC API items, the layer list and the health check — until the time is up
(and at most 100 000 requests each). Every request goes to 127.0.0.1 only. Printed per server
configuration and client count: requests, 5xx, 4xx and connection errors, p50/p99 per endpoint, and
the worker processes' resident memory (RSS, MiB) at start (after a warm-up) and at the end.

Two servers in the same run:

* ``gisapp serve`` as shipped: gunicorn gthread workers (2 per core × 4 threads), analysis gate;
* baseline: the previous release's server, gunicorn with 2 synchronous workers per core.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import psutil

REPO = Path(__file__).resolve().parent.parent
X, Y = 447_238.0, 2_496_411.0  # near 中山港街道's seat, EPSG:4547
PARCEL = json.dumps(
    {
        "type": "Feature",
        "properties": {"parcel_id": "Q1"},
        "geometry": {"type": "Polygon", "coordinates": [[[X, Y], [X + 40, Y], [X + 40, Y + 30], [X, Y + 30], [X, Y]]]},
        "crs": {"type": "name", "properties": {"name": "EPSG:4547"}},
    }
).encode()
MIX: list[tuple[str, str, str, bytes | None]] = [
    ("POST /api/overlap", "POST", "/api/overlap", PARCEL),
    ("GET /api/map/…/features", "GET", "/api/map/layers/zs-towns/features?bbox=113.2,22.3,113.6,22.7&zoom=11", None),
    ("GET /api/health", "GET", "/api/health", None),
    ("GET /ogc/…/items", "GET", "/ogc/collections/zs-services-structure/items?limit=20", None),
    ("POST /api/overlap", "POST", "/api/overlap", PARCEL),
    ("GET /api/layers", "GET", "/api/layers", None),
]
MAX_REQUESTS_PER_CLIENT = 100_000


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def servers(port: int) -> dict[str, list[str]]:
    """The server command lines compared (both bound to 127.0.0.1)."""
    workers = str(2 * (os.cpu_count() or 1))
    return {
        "gisapp serve (gthread 2/core × 4 threads, gate)": [
            sys.executable, "-m", "gisapp", "serve", "--host", "127.0.0.1", "--port", str(port),
        ],
        "baseline: gunicorn 2 sync workers/core": [
            sys.executable, "-m", "gunicorn", "-w", workers, "-k", "sync", "-b", f"127.0.0.1:{port}",
            "--timeout", "120", "gisapp.web:create_app()",
        ],
    }  # fmt: skip


def wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    """Wait until /api/health answers 200 (at most 90 s)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/api/health")
            if c.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the server did not start")


def worker_rss_mib(process: subprocess.Popen[bytes]) -> list[float]:
    """Resident memory of each worker process (gunicorn's children), MiB."""
    children = psutil.Process(process.pid).children(recursive=True)
    return sorted(round(c.memory_info().rss / 2**20, 1) for c in children)


def load(port: int, clients: int, seconds: float) -> dict[str, dict[str, float]]:
    """``clients`` threads looping over :data:`MIX` for ``seconds``; statistics per endpoint."""
    lat: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"5xx": 0, "4xx": 0, "conn": 0})
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(offset: int) -> None:
        mine: dict[str, list[float]] = defaultdict(list)
        bad: dict[str, dict[str, int]] = defaultdict(lambda: {"5xx": 0, "4xx": 0, "conn": 0})
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for i in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() > stop_at:
                break
            name, method, path, body = MIX[(i + offset) % len(MIX)]
            t = time.perf_counter()
            try:
                headers = {"Content-Type": "application/geo+json"} if body else {}
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status >= 500:
                    bad[name]["5xx"] += 1
                elif resp.status >= 400:
                    bad[name]["4xx"] += 1
                if resp.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            except OSError:
                bad[name]["conn"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine[name].append((time.perf_counter() - t) * 1000)
        conn.close()
        with lock:
            for k, v in mine.items():
                lat[k].extend(v)
            for k, v in bad.items():
                for kk, n in v.items():
                    counts[k][kk] += n

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    out = {}
    for name, values in sorted(lat.items()):
        arr = np.array(values)
        out[name] = {
            "requests": len(arr),
            **counts[name],
            "p50": float(np.percentile(arr, 50)),
            "p99": float(np.percentile(arr, 99)),
        }
    return out


def main() -> int:
    """Run every server × client count; print one table each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    args = parser.parse_args()
    print(f"# load on 127.0.0.1, {args.seconds:g} s per run, {os.cpu_count()} cores\n")
    for name in servers(0):
        for clients in args.clients:
            port = free_port()
            env = {**os.environ, "PYTHONPATH": str(REPO)}
            proc = subprocess.Popen(
                servers(port)[name], env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            try:
                wait_ready(port, proc)
                load(port, 16, 8.0)  # warm-up: every worker has read its layers and started its forkserver
                rss_start = worker_rss_mib(proc)
                stats = load(port, clients, args.seconds)
                rss_end = worker_rss_mib(proc)
            finally:
                proc.terminate()
                proc.wait(timeout=20)
            total = sum(s["requests"] for s in stats.values())
            fivexx = sum(s["5xx"] for s in stats.values())
            conn = sum(s["conn"] for s in stats.values())
            print(f"## {name}, {clients} clients\n")
            print("| endpoint | requests | 5xx | 4xx | conn. errors | p50 ms | p99 ms |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            for ep, s in stats.items():
                print(
                    f"| {ep} | {s['requests']:,} | {s['5xx']} | {s['4xx']} | {s['conn']} "
                    f"| {s['p50']:.1f} | {s['p99']:.1f} |"
                )
            print(f"| **all** | {total:,} | {fivexx} | | {conn} | | |")
            print(f"\nworker RSS MiB, start → end: {rss_start} → {rss_end}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
