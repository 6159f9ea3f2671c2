"""Save screenshots of the demo for the README: the list, the rename dialog, and the phone-sized view.

    .venv/bin/python tools/screens.py [--out screens]

PNG files are written to the output folder (gitignored); nothing is committed.
"""
import argparse
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "demo"))
from server import CHROMIUM, CHROMIUM_ARGS, DemoServer  # noqa: E402


def shoot(url: str, out: Path) -> list:
    "Take the three screenshots of the manager at `url`; return their paths."
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 760})
        page.goto(url)
        page.keyboard.press("ArrowDown")
        page.locator("[data-sm-cursor]").wait_for()
        page.screenshot(path=out / "list.png")
        page.keyboard.press("F2")
        dialog = page.locator("#sm-rename-modal")
        dialog.wait_for()
        dialog.evaluate("d => Promise.all(d.getAnimations({subtree: true}).map(a => a.finished))")  # fully faded in
        page.screenshot(path=out / "rename-dialog.png")
        phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        phone.goto(url)
        phone.screenshot(path=out / "mobile.png")
        browser.close()
    return [out / "list.png", out / "rename-dialog.png", out / "mobile.png"]


def main():
    "Serve a fresh demo, photograph it, stop it."
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("screens"))
    args = parser.parse_args()
    server = DemoServer(Path(tempfile.mkdtemp()) / "data", 50)
    try:
        for path in shoot(server.url + "/manage/sessions/", args.out): print(path)
    finally: server.stop()


if __name__ == "__main__":
    main()
