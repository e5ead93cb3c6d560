"""Write screenshots of the map's main views to ``screenshots/`` (see ``screenshots/README.md``).

Starts the app on the bundled layers (127.0.0.1, a free port), drives Debian's chromium with
Playwright, blocks every request that leaves 127.0.0.1, and saves one PNG per view:

``plan-<plan id>-1280.png`` / ``-1920.png`` every plan view (专题图) at 1280×800 and 1920×1080 ·
``map.png`` first view · ``map-search.png`` search "小榄" · ``map-details.png`` a zone's details ·
``map-measure.png`` distance measured · ``map-overlap.png`` overlap check of a drawn polygon ·
``map-controllines.png`` the four control lines · ``map-overlap-controls.png`` every line's verdict ·
``map-compare.png`` two plans side by side · ``map-en.png`` English UI · ``map-standin.png`` a hub
located only to its district, selected: its district outlined · ``map-standins-panel.png`` the
未定位要素 panel with an entry hovered and its unit outlined.

Chinese needs a CJK font: the script installs Debian's ``fonts-noto-cjk`` (apt-get, as root) when
``fc-list :lang=zh`` finds none.

Run: ``python scripts/screenshots.py [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gisapp.web import create_app  # noqa: E402
from tests.browser import CHROMIUM, LAUNCH_ARGS  # noqa: E402

TO_PAGE_JS = """
(points) => {
    const map = window.gisapp.map, box = map.getContainer().getBoundingClientRect();
    return points.map(([lat, lon]) => {
        const p = map.latLngToContainerPoint([lat, lon]);
        return [box.left + p.x, box.top + p.y];
    });
}
"""


def ensure_cjk_font() -> None:
    """Install Debian's ``fonts-noto-cjk`` when no font for Chinese is installed (needs root and apt).

    Raises:
        SystemExit: when no CJK font is present and it cannot be installed.
    """
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout
    if found.strip():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit("no CJK font: run as root with apt-get, or install fonts-noto-cjk")
    print("installing fonts-noto-cjk (Chinese text) …")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-q", "fonts-noto-cjk"], check=True, env=env)
    subprocess.run(["fc-cache", "-f"], check=False)


class Shooter:
    """One browser page on the app; ``shot(name)`` saves a PNG."""

    def __init__(self, browser, base: str, out: Path) -> None:  # type: ignore[no-untyped-def]
        self.browser = browser
        self.base = base
        self.out = out
        self.outside: list[str] = []
        self.context = None
        self.page = None

    def open(self, hash_: str = "", size: tuple[int, int] = (1280, 800)) -> object:
        if self.context is not None:
            self.context.close()
        self.context = self.browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="zh-CN")
        page = self.context.new_page()
        page.route("**/*", self._route)
        page.goto(f"{self.base}/{hash_}", wait_until="load")
        page.wait_for_selector("body[data-ready=true]", state="attached", timeout=30_000)
        self.page = page
        return page

    def _route(self, route) -> None:  # type: ignore[no-untyped-def]
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def type_search(self, query: str) -> None:
        """Type ``query`` into the search box and wait for the first hit."""
        self.page.locator("#gisapp-search-input").fill(query)
        self.page.locator("#gisapp-search-results li.gisapp-search-hit").first.wait_for(state="visible")

    def search(self, query: str, shown: str = "#gisapp-details .gisapp-details") -> None:
        """Search ``query``, take the first hit (Enter) and wait until ``shown`` is visible."""
        self.type_search(query)
        self.page.locator("#gisapp-search-input").press("Enter")
        self.page.locator(shown).wait_for(state="visible")

    def idle(self) -> None:
        self.page.evaluate("() => window.gisapp.idle()")
        self.page.wait_for_timeout(300)

    def shot(self, name: str) -> None:
        path = self.out / name
        self.page.screenshot(path=str(path))
        print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")

    def close(self) -> None:
        if self.context is not None:
            self.context.close()


def output_folder(argv: list[str] | None, description: str) -> Path:
    """The ``--out`` folder of a screenshot script (created), once a CJK font is installed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=REPO / "screenshots", help="output directory")
    out: Path = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    ensure_cjk_font()
    return out


def serve(config: dict[str, object]) -> tuple[BaseWSGIServer, str]:
    """Serve ``create_app(config)`` on 127.0.0.1 (a free port) in a thread: ``(server, base URL)``."""
    server = make_server("127.0.0.1", 0, create_app({"TESTING": True, **config}), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def main(argv: list[str] | None = None) -> int:
    """Write the screenshots; return 1 if the page tried to leave 127.0.0.1."""
    out = output_folder(argv, __doc__.splitlines()[0])
    from playwright.sync_api import sync_playwright

    server, base = serve({})
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            s = Shooter(browser, base, out)

            page = s.open()
            plans = [p["id"] for p in json.loads(page.locator("#gisapp-config").text_content())["plans"]]
            for plan in plans:
                for size in ((1280, 800), (1920, 1080)):
                    s.open(f"#plan={plan}", size)
                    s.idle()
                    s.shot(f"plan-{plan}-{size[0]}.png")

            s.open()
            s.idle()
            s.shot("map.png")

            page = s.open("#plan=zhongshan-services-2021-2025")
            entry = page.locator('#gisapp-standins li[data-id="zs-services-detail-north-industrial-park"]')
            if not entry.count():
                entry = page.locator("#gisapp-standins li").first
            entry.hover()
            page.wait_for_function("() => window.gisapp.views.unitGroup.getLayers().length > 0")
            s.idle()
            s.shot("map-standins-panel.png")

            page = s.open()
            s.type_search("小榄")
            page.wait_for_timeout(200)
            s.shot("map-search.png")
            s.search("小榄")
            s.idle()
            s.shot("map-search-result.png")

            page = s.open("#plan=zhongshan-services-2021-2025")
            s.search("西北部生产性服务业标杆区", ".gisapp-sentence")
            s.idle()
            s.shot("map-details.png")

            page = s.open("#z=12&c=22.54,113.44&l=zs-towns,zs-services-structure,base-city")
            (xa, ya), (xb, yb) = page.evaluate(TO_PAGE_JS, [[22.51682, 113.38521], [22.5646, 113.487]])
            page.locator('#gisapp-tools button[data-tool="distance"]').click()
            for x, y in ((xa, ya), (xb, yb), (xb, yb)):
                page.mouse.click(x, y)
            page.locator('.gisapp-measure-value[data-final="true"]').wait_for(state="visible")
            page.mouse.move(xa + 120, ya + 200)
            s.shot("map-measure.png")

            page = s.open("#z=13&c=22.678,113.231&l=zs-industrial-redline,zs-towns,base-city")
            d = 0.008
            corners = [[22.678 - d, 113.231 - d], [22.678 - d, 113.231 + d], [22.678 + d, 113.231 + d]]
            corners.append([22.678 + d, 113.231 - d * 0.5])
            pts = page.evaluate(TO_PAGE_JS, corners)
            page.locator('#gisapp-tools button[data-tool="overlap"]').click()
            for x, y in [*pts, pts[0]]:
                page.mouse.click(x, y)
            page.locator(".gisapp-overlap-result").wait_for(state="visible")
            s.shot("map-overlap.png")

            lines = "zs-industrial-redline,zs-farmland,zs-ecology-redline,zs-urban-boundary,zs-towns,base-city"
            s.open(f"#z=11&c=22.52,113.40&l={lines}")
            s.idle()
            s.shot("map-controllines.png")
            page = s.open(f"#z=13&c=22.62421,113.51&l={lines}")
            corners = [[22.616, 113.502], [22.616, 113.518], [22.632, 113.518], [22.632, 113.506]]
            pts = page.evaluate(TO_PAGE_JS, corners)
            page.locator('#gisapp-tools button[data-tool="overlap"]').click()
            for x, y in [*pts, pts[0]]:
                page.mouse.click(x, y)
            page.locator(".gisapp-line-verdicts").wait_for(state="visible")
            s.shot("map-overlap-controls.png")

            page = s.open("#plan=zhongshan-services-2021-2025&z=9&c=22.8,113.5")
            page.locator('#gisapp-tools button[data-tool="compare"]').click()
            s.idle()
            s.shot("map-compare.png")

            page = s.open("#plan=guangzhou-services-2021-2025")
            s.search("极端海洋动态过程")
            s.idle()
            s.shot("map-standin.png")

            page = s.open("#lang=en")
            s.search("cuiheng")
            s.idle()
            s.shot("map-en.png")
            s.close()
            browser.close()
    finally:
        server.shutdown()
    if s.outside:
        print(f"requests outside 127.0.0.1 were blocked: {s.outside}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
