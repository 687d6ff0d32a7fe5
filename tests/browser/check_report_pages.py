"""Check seqprov's HTML report pages in a real Chromium (Playwright, Debian's browser).

    python check_report_pages.py OUT CHROMIUM

OUT holds the pages, the JSON reports they render, and cases.json (written by
crates/seqprov-cli/tests/report_page.rs): a list of objects with
  name      the case's name (screenshots and PDFs are saved as OUT/NAME.png, NAME.pdf)
  page      the HTML file, relative to OUT
  report    the JSON the same command printed with --json, relative to OUT
  kind      "verify" or "custody"
  headline  the verdict the banner must say
  tone      "good", "caution", "bad" or "neutral": the banner's colour
  filter    (optional) the file classes to switch off one after the other
  hostile   (optional) strings that must appear as text, and fire nothing

For every page: nothing but the file itself is requested; no dialog opens; the banner
says the verdict in its colour; the findings table shows one row per finding of the
report; switching a class off hides exactly its rows, with scripts on and with scripts
off; the PDF printed from it has the bundle's root and a page number on every page and
lists every finding (even those filtered off on screen). Prints one line per check,
then "N passed, M failed"; exits 1 if any check failed.
"""

import json
import pathlib
import shutil
import subprocess
import sys
import traceback

from playwright.sync_api import sync_playwright

OUT = pathlib.Path(sys.argv[1]).resolve()
CHROMIUM = sys.argv[2] if len(sys.argv) > 2 else "/usr/bin/chromium"

# The banner colours of the page's stylesheet (--good-bg and the others).
BANNER_BACKGROUNDS = {
    "good": "rgb(227, 244, 230)",
    "caution": "rgb(253, 241, 214)",
    "bad": "rgb(251, 227, 228)",
    "neutral": "rgb(236, 236, 236)",
}

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


def open_page(browser, path, javascript=True):
    """A new page showing `path`, with every request and dialog recorded."""
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.requests = []
    page.dialogs = []
    page.on("request", lambda request: page.requests.append(request.url))

    def on_dialog(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return context, page


def visible_paths(page):
    return page.locator("#findings tbody tr:visible td.path").all_inner_texts()


def pdf_pages(pdf):
    """The text of each page of `pdf`, by pdftotext (None when it is not installed)."""
    if shutil.which("pdftotext") is None:
        return None
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return [p for p in text.split("\f") if p.strip()]


def check_case(browser, case):
    name = case["name"]
    page_file = OUT / case["page"]
    report = json.loads((OUT / case["report"]).read_text())
    context, page = open_page(browser, page_file)

    headline = page.locator("#verdict .headline")
    check(f"{name}: the verdict is visible", headline.is_visible())
    check(
        f"{name}: the banner says {case['headline']!r}",
        headline.inner_text().strip() == case["headline"],
        repr(headline.inner_text()),
    )
    background = page.locator("#verdict").evaluate("e => getComputedStyle(e).backgroundColor")
    check(
        f"{name}: the banner is {case['tone']}",
        background == BANNER_BACKGROUNDS[case["tone"]],
        background,
    )

    seal = report.get("seal")
    root = seal["root"] if seal else None
    if case["kind"] == "verify":
        files = report["files"]
        shown = visible_paths(page)
        check(
            f"{name}: one visible row per finding ({len(files)})",
            len(shown) == len(files),
            f"{len(shown)} rows",
        )
        expected_first_lines = sorted(f["path"] for f in files)
        check(
            f"{name}: the rows name the report's paths as text",
            sorted(s.split("\n")[0] for s in shown) == expected_first_lines,
            f"{shown} != {expected_first_lines}",
        )
        classes = [f["class"] for f in files]
        remaining = len(files)
        for cls in case.get("filter", []):
            page.uncheck(f"#show-{cls}")
            remaining -= classes.count(cls)
            shown = visible_paths(page)
            check(
                f"{name}: switching {cls} off leaves {remaining} rows",
                len(shown) == remaining,
                f"{len(shown)} rows",
            )
            counter = page.locator("#shown").inner_text()
            check(
                f"{name}: the script counts the rows shown",
                counter == f"{remaining} of {len(files)} findings shown",
                repr(counter),
            )
        if case.get("filter"):
            # The same filters with scripts switched off: plain CSS.
            plain_context, plain = open_page(browser, page_file, javascript=False)
            left = len(files)
            for cls in case["filter"]:
                plain.uncheck(f"#show-{cls}")
                left -= classes.count(cls)
            check(
                f"{name}: the filters work without JavaScript",
                len(visible_paths(plain)) == left == remaining,
                f"{len(visible_paths(plain))} rows",
            )
            check(
                f"{name}: (without JavaScript the counter is left as written)",
                plain.locator("#shown").inner_text() == f"{len(files)} findings",
            )
            check(f"{name}: no request without JavaScript either", plain.requests == [page_file.as_uri()])
            plain_context.close()
    else:
        events = report["events"]
        svg = page.locator("#timeline-svg")
        check(f"{name}: the timeline is drawn", svg.is_visible())
        markers = page.locator("#timeline-svg g.marker").count()
        check(
            f"{name}: one marker for the seal and each of {len(events)} events",
            markers == len(events) + 1,
            f"{markers} markers",
        )
        check(
            f"{name}: the place for attested times is labelled",
            "attested times" in page.locator("#attested-lane").text_content(),
        )
        rows = page.locator("#custody-table tbody tr:visible").count()
        check(f"{name}: one row per event", rows == len(events), f"{rows} rows")

    for text in case.get("hostile", []):
        body = page.locator("body").inner_text()
        check(f"{name}: {text!r} is shown as text", text in body)
    if case.get("hostile"):
        check(f"{name}: no injected element", page.locator("img").count() == 0)
        check(f"{name}: only the page's own script", page.locator("script").count() == 1)

    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    pdf = OUT / f"{name}.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    data = pdf.read_bytes()
    check(f"{name}: printed to PDF", data.startswith(b"%PDF") and len(data) > 1000, f"{len(data)} bytes")
    pages = pdf_pages(pdf)
    if pages is not None and root is not None:
        check(
            f"{name}: the root is on each of {len(pages)} printed page(s)",
            all(f"bundle root {root}" in p for p in pages),
        )
        check(
            f"{name}: each printed page is numbered",
            all(f"Page {i + 1} of {len(pages)}" in p for i, p in enumerate(pages)),
        )
        if case["kind"] == "verify":
            printed = "\n".join(pages)
            missing = [f["path"] for f in report["files"] if f["path"] not in printed]
            check(f"{name}: the PDF lists every finding, filtered or not", not missing, f"missing {missing}")
        check(f"{name}: the PDF says the verdict", case["headline"] in "\n".join(pages))

    check(f"{name}: no dialog opened", page.dialogs == [], repr(page.dialogs))
    check(
        f"{name}: nothing but the file was requested",
        page.requests == [page_file.as_uri()],
        repr(page.requests),
    )
    context.close()


def main():
    cases = json.loads((OUT / "cases.json").read_text())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        print(f"browser: Chromium {browser.version}")
        for case in cases:
            try:
                check_case(browser, case)
            except Exception:
                traceback.print_exc()
                check(f"{case['name']}: checks ran to the end", False)
        browser.close()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
