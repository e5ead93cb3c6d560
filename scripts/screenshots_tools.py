"""Screenshots of the pages added for accounts, large layers and plan drafting (``screenshots/``).

A copy of the bundled store in a temporary folder, with: a large layer of 2 400 synthetic 图斑
(GeoPackage backend, drawn from vector tiles), an accounts database with a 管理 user ``boss``, and a
zone file drafted by ``gisapp plan draft`` from the 南海区 fixture plan. Served on 127.0.0.1 (every
other request blocked) and shot in Debian's chromium at 1280×800:

``login.png`` the login page · ``admin.png`` the 管理 page (versions, import, audit trail) ·
``review.png`` the review page of a drafted plan, an element selected · ``map-large.png`` the large
layer drawn from tiles · ``map-user.png`` the map with the user badge.

Run: ``python scripts/screenshots_tools.py [--out DIR]``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gisapp.accounts.accountsdb import AccountsDB  # noqa: E402
from gisapp.core import paths  # noqa: E402
from gisapp.store.layerstore import LayerStore  # noqa: E402
from scripts.screenshots import Shooter, output_folder, serve  # noqa: E402
from tests.browser import CHROMIUM, LAUNCH_ARGS  # noqa: E402
from tests.test_store_gpkg import _meta, synthetic_dltb  # noqa: E402

FIXTURE_PLAN = REPO / "tests" / "fixtures" / "plans" / "nanhai-services-2026-2030-fixture.txt"


def prepare(tmp: Path) -> dict[str, str]:
    """The temporary store, zones and accounts; returns the app's settings."""
    layers, zones, plans = tmp / "layers", tmp / "zones", tmp / "plans"
    shutil.copytree(paths.plans_dir(), plans)  # the plan texts, plus the fixture plan the review page shows
    shutil.copy(FIXTURE_PLAN, plans / FIXTURE_PLAN.name)
    shutil.copytree(REPO / "layers", layers, ignore=shutil.ignore_patterns("large"))
    shutil.copytree(REPO / "zones", zones)
    LayerStore(layers).write_large([synthetic_dltb()], _meta("dltb"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "gisapp",
            "plan",
            "draft",
            str(FIXTURE_PLAN),
            "--city",
            "佛山市",
            "-o",
            str(zones / "nanhai.yaml"),
        ],
        check=True,
        cwd=REPO,
        capture_output=True,
    )
    db = AccountsDB(f"sqlite:///{tmp / 'accounts.sqlite'}")
    db.add_user("boss", "boss-password", "管理")
    return {
        "GISAPP_LAYERS_DIR": str(layers),
        "GISAPP_ZONES_DIR": str(zones),
        "GISAPP_PLANS_DIR": str(plans),
        "GISAPP_ACCOUNTS_DB": str(tmp / "accounts.sqlite"),
    }


SIZES = ((1280, 800), (1920, 1080))


def shoot(browser, s: Shooter, base: str, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    """Every page at one window size; files ``<page>.png`` at 1280 px, ``<page>-1920.png`` at 1920 px."""
    suffix = "" if width == 1280 else f"-{width}"
    if s.context is not None:
        s.context.close()
    s.context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = s.context.new_page()
    page.route("**/*", s._route)
    s.page = page
    page.goto(f"{base}/login", wait_until="load")
    s.shot(f"login{suffix}.png")
    page.fill("#login-name", "boss")
    page.fill("#login-password", "boss-password")
    page.click("#login-submit")
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=30_000)
    s.shot(f"map-user{suffix}.png")
    page.locator("#gisapp-large input[data-layer=dltb]").check()
    page.wait_for_timeout(2500)
    s.shot(f"map-large{suffix}.png")
    page.goto(f"{base}/admin", wait_until="load")
    page.wait_for_selector("#history tbody tr")
    page.wait_for_timeout(500)
    s.shot(f"admin{suffix}.png")
    page.goto(f"{base}/plans/review?file=nanhai.yaml", wait_until="load")
    page.wait_for_selector("#element-list li")
    page.locator("#element-list li").nth(1).click()
    page.wait_for_timeout(800)
    s.shot(f"review{suffix}.png")


def main(argv: list[str] | None = None) -> int:
    """Write the screenshots; return 1 if a page tried to leave 127.0.0.1."""
    out = output_folder(argv, __doc__.splitlines()[0])
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="gisapp-shots-") as tmp:
        server, base = serve(dict(prepare(Path(tmp))))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
                s = Shooter(browser, base, out)
                for width, height in SIZES:
                    shoot(browser, s, base, width, height)
                browser.close()
        finally:
            server.shutdown()
    if s.outside:
        print("requests outside 127.0.0.1 were blocked:", *sorted(set(s.outside)), sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
