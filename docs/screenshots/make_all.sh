#!/usr/bin/env bash
# Every screenshot at both laptop sizes (1366×768 and 1024×600), under Xvfb, from synthetic demo data.
#   bash docs/screenshots/make_all.sh        (from the repository root; needs xvfb-run and pdftoppm)
set -euo pipefail
PY=${PY:-.venv/bin/python}
DASH=$(mktemp -d /tmp/desmig-dash-XXXXXX)
trap 'rm -rf "$DASH" /tmp/desmig-screenshots /tmp/desmig-keyboard-screenshots /tmp/desmig-location-screenshots /tmp/desmig-sync-screenshots' EXIT
DESMIG_ALLOW_PLAINTEXT=1 "$PY" -m desmig_desktop.cli --data-dir "$DASH" demo --households 2000 \
    --villages 33.01.01.2001,33.01.01.2002,33.01.01.2003,33.01.01.2004,33.01.01.2005,33.01.01.2006,33.01.01.2007 \
    --seed 7
for size in 1366x768 1024x600; do
    DESMIG_ALLOW_PLAINTEXT=1 xvfb-run -a -s "-screen 0 ${size}x24" "$PY" docs/screenshots/make_screenshots.py
    xvfb-run -a -s "-screen 0 ${size}x24" "$PY" docs/screenshots/make_dashboard_screenshots.py "$DASH"
    DESMIG_ALLOW_PLAINTEXT=1 xvfb-run -a -s "-screen 0 ${size}x24" "$PY" docs/screenshots/make_keyboard_screenshots.py
    DESMIG_ALLOW_PLAINTEXT=1 xvfb-run -a -s "-screen 0 ${size}x24" "$PY" docs/screenshots/make_location_screenshots.py
    xvfb-run -a -s "-screen 0 ${size}x24" "$PY" docs/screenshots/make_monthly_screenshots.py "$DASH"
    DESMIG_ALLOW_PLAINTEXT=1 xvfb-run -a -s "-screen 0 ${size}x24" "$PY" docs/screenshots/make_questionnaire_screenshots.py
    xvfb-run -a -s "-screen 0 ${size}x24" "$PY" docs/screenshots/make_programme_screenshots.py
done
xvfb-run -a -s "-screen 0 1366x768x24" "$PY" docs/screenshots/make_profile_screenshots.py  # dialogs and the status bar: one size
DESMIG_ALLOW_PLAINTEXT=1 xvfb-run -a -s "-screen 0 1366x768x24" "$PY" docs/screenshots/make_sync_screenshots.py
# hq-dashboard.png (the HQ web page) and the review desk's hq-desk-*.png (conflicts, quality, village,
# household, users): the two Chromium tests write them when DESMIG_SCREENSHOTS_DIR names this folder.
DESMIG_SCREENSHOTS_DIR="$PWD/docs/screenshots" "$PY" -m pytest -q -p no:cacheprovider \
    tests/web/test_dashboard_chromium.py tests/web/test_desk_chromium.py
