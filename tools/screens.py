"""Save screenshots of the demo: the list (light and dark), the rename and delete dialogs, the detail view, the empty
state and the phone view.

    .venv/bin/python tools/screens.py [--out screens]

PNG files are written to the output folder (gitignored). The README shows two of them, copied to docs/img/
(`--readme` refreshes those copies).
"""
import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "demo"))
from server import CHROMIUM, CHROMIUM_ARGS, DemoServer  # noqa: E402

PAGE = "/manage/sessions/management_page"
README_SHOTS = ("list.png", "phone.png")  # The two the README shows


def settle(page) -> None:
    "Wait for every finite animation (a dialog fading in) to end."
    page.wait_for_function("document.getAnimations().every(a => a.playState !== 'running' || a.effect.target === document.documentElement)")


def shoot_list(browser, url: str, out: Path) -> list:
    "The list in light and dark, its two dialogs, and a session's detail view."
    shots = []
    for scheme in ("light", "dark"):
        page = browser.new_page(viewport={"width": 1280, "height": 820}, color_scheme=scheme)
        page.goto(url + PAGE)
        page.locator("#wsm-list-body tbody tr").nth(1).focus()
        page.screenshot(path=out / f"list{'-dark' if scheme == 'dark' else ''}.png")
        shots.append(out / f"list{'-dark' if scheme == 'dark' else ''}.png")
        if scheme == "dark": continue
        for key, name in (("F2", "rename-dialog"), ("Delete", "delete-dialog")):
            page.keyboard.press(key)
            settle(page)
            page.screenshot(path=out / f"{name}.png")
            shots.append(out / f"{name}.png")
            page.keyboard.press("Escape")
        page.goto(url + page.locator("#wsm-list-body tbody th a").first.get_attribute("href"))
        page.screenshot(path=out / "detail.png")
        shots.append(out / "detail.png")
    return shots


def shoot(url: str, empty_url: str, out: Path) -> list:
    "Take every screenshot; return their paths."
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        shots = shoot_list(browser, url, out)
        empty = browser.new_page(viewport={"width": 1280, "height": 600})
        empty.goto(empty_url + PAGE)
        empty.screenshot(path=out / "empty.png")
        phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        phone.goto(url + PAGE)
        phone.screenshot(path=out / "phone.png")
        browser.close()
    return [*shots, out / "empty.png", out / "phone.png"]


def main():
    "Serve fresh demos (with sessions, and empty), photograph them, stop them."
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screens")
    parser.add_argument("--readme", action="store_true", help="also refresh the README's copies in docs/img/")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    server, empty = DemoServer(tmp / "data", 50), DemoServer(tmp / "empty", 0)
    try:
        for path in shoot(server.url, empty.url, args.out): print(path)
    finally:
        server.stop()
        empty.stop()
    if args.readme:
        (ROOT / "docs" / "img").mkdir(parents=True, exist_ok=True)
        for name in README_SHOTS: shutil.copyfile(args.out / name, ROOT / "docs" / "img" / name)


if __name__ == "__main__":
    main()
