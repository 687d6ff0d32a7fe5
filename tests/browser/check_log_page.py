"""Check the transparency log's page (`seqprov log serve`, spec/log.md §9) in a real
Chromium (Playwright driving Debian's browser):

    python check_log_page.py BASE_URL RUN_ID CHROMIUM

Run by crates/seqprov-cli/tests/log_server.rs with SEQPROV_BROWSER_TESTS=1, against a log
that holds the seal of run RUN_ID and one custody event. Checks: `/` lists the run; the
search form finds it; the run's timeline shows its seal and custody event 1 with their
check state; a hostile run id typed into the search is shown as text, runs no script,
opens no dialog, and adds no element; the page requests nothing but itself. Prints one
line per check, then "N passed, M failed"; exits 1 if any failed.
"""

import sys

from playwright.sync_api import sync_playwright

BASE = sys.argv[1]
RUN_ID = sys.argv[2]
CHROMIUM = sys.argv[3] if len(sys.argv) > 3 else "/usr/bin/chromium"
HOSTILE = "<img src=x onerror=alert(1)>"

passed = 0
failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    page = browser.new_page()
    requests = []
    dialogs = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    page.goto(BASE)
    check("/ lists the run", RUN_ID in page.locator("#runs").inner_text())

    page.fill("#q", RUN_ID)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    check("the search shows the seal", "seal" in page.locator("table.entries").inner_text())
    page.locator("table.entries a", has_text=RUN_ID).first.click()
    page.wait_for_load_state("load")
    timeline = page.locator("section.timeline").first.inner_text()
    check("the run page names the run", page.locator("#run-id").inner_text() == RUN_ID)
    check("the timeline shows the seal", "seal" in timeline, timeline)
    check("the timeline shows custody event 1", "custody event 1" in timeline, timeline)
    check("the timeline shows the check state", "included in checkpoint 2" in timeline, timeline)

    page.goto(BASE)
    page.fill("#q", HOSTILE)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    check("a hostile search is shown as text", page.locator("#query").inner_text() == HOSTILE)
    check("it adds no image", page.locator("img").count() == 0)
    page.goto(BASE + "run?id=" + "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    check("a hostile run id is shown as text", page.locator("#run-id").inner_text() == HOSTILE)
    check("no dialog opened", not dialogs, repr(dialogs))
    outside = [u for u in requests if not u.startswith(BASE)]
    check("nothing but the log itself was requested", not outside, repr(outside))
    browser.close()

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
