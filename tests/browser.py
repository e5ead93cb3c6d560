"""How the tests, benchmarks and scripts start Debian's Chromium (never a Playwright download).

The flags keep Chromium off the network it cannot reach here (background networking, component
updates, sync) and let it run as root in a container.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_available() -> bool:
    """True when Debian's chromium is installed at :data:`CHROMIUM`."""
    return Path(CHROMIUM).exists()
