#!/usr/bin/env bash
# Browser checks of seqprov's HTML report pages (verify --html, custody show --html) in
# a real Chromium driven by Playwright. Run by crates/seqprov-cli/tests/report_page.rs
# when SEQPROV_BROWSER_TESTS=1, after it has written the pages and cases.json into OUT:
#
#   bash tests/browser/run_page_checks.sh OUT
#
# Environment (all optional):
#   SEQPROV_BROWSER_VENV   the Python virtual environment to use or create
#                          (default: TARGET/browser/venv; packages from requirements.txt)
#   SEQPROV_CHROMIUM       the Chromium binary (default: /usr/bin/chromium, Debian's)
#   CARGO_TARGET_DIR       as for cargo (default: ROOT/target)
#
# Ends with "N passed, M failed"; exits 1 if any check failed. Screenshots and PDFs are
# left in OUT.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
out="${1:?usage: run_page_checks.sh OUT}"

chromium="${SEQPROV_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
    echo "run_page_checks: no Chromium at $chromium (apt-get install chromium)" >&2
    exit 2
fi
venv="${SEQPROV_BROWSER_VENV:-$target/browser/venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
exec "$venv/bin/python" "$here/check_report_pages.py" "$out" "$chromium"
