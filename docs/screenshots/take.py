"""Screenshots of every dashboard page for the README: `python docs/screenshots/take.py URL` against a
dashboard that has run the demo (`sentimon run`) for five minutes or more; PNGs land beside this file."""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

PAGES = ["Overview", "Topic detail", "Topics", "Alerts", "Labelling", "Models", "Audit"]
HERE = Path(__file__).resolve().parent


def settle(page) -> None:  # type: ignore[no-untyped-def]
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=60_000)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=60_000)


def main(url: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])  # Debian's
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        page.get_by_role("textbox", name="Your name").fill("Ana")
        page.get_by_role("textbox", name="Password").fill("admin")
        page.get_by_role("button", name="Sign in").click()
        for name in PAGES:
            page.get_by_role("link", name=name, exact=True).click()
            expect(page.get_by_role("heading", name=name, level=1)).to_be_visible(timeout=60_000)
            page.wait_for_timeout(3000)  # charts draw after the run ends
            settle(page)
            path = HERE / f"{name.lower().replace(' ', '-')}.png"
            # Streamlit scrolls inside its main area: stretch the viewport to it for the whole page.
            height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
            page.set_viewport_size({"width": 1280, "height": min(max(height, 900), 4000)})
            settle(page)
            page.screenshot(path=str(path), animations="disabled")
            page.set_viewport_size({"width": 1280, "height": 900})
            print(path, path.stat().st_size)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8501")
