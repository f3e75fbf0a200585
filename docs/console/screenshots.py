"""Screenshots of the console's views for the README: python docs/console/screenshots.py URL USER PASSWORD

Run against ``groundseg demo --console`` (it prints URL, user and password) once the demo's faults
have raised alarms and its clock is in the morning's imaging (about 2 minutes in at 60x); acknowledges the oldest open alarm to show the action log.
Headless Debian Chromium through Playwright; PNGs reduced to 256 colours next to this file.
"""
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

VIEWS = ("passes", "map", "telemetry", "alarms", "commands", "plan", "links")
HERE = Path(__file__).resolve().parent


def main(url: str, user: str, password: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 760})
        page.goto(url + "/passes")
        page.fill("#login-user", user)
        page.fill("#login-password", password)
        page.click("#login-submit")
        page.wait_for_selector(f'#user [data-user="{user}"]')
        page.wait_for_selector('#view[data-view="passes"]')
        for view in VIEWS:
            page.click(f'#nav a[data-view="{view}"]')
            if view == "alarms":
                last = page.wait_for_selector("#alarms-table tbody tr:last-child button[data-action=acknowledge]")
                last.click()
                page.fill("#ack-comment", "checked with the spacecraft team, ticket OPS-142")
                page.click("[role=dialog] button[data-role=confirm]")
                page.wait_for_selector("#actions-table td:text-is('acknowledge')")
            if view == "plan":                          # 3 h around now: the acquisitions readable
                page.click("#view button[data-span='3']")
                page.wait_for_selector("#plan-timeline svg rect.acquisition")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1500)                 # let the live feed and the canvases settle
            out = HERE / f"{view}.png"
            page.screenshot(path=str(out))
            Image.open(out).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE).save(out, optimize=True)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
