"""The HQ dashboard in real headless Chromium against a real ``desmig-hq serve`` on 127.0.0.1.

Sign in, check the national figures against the JSON report, drill down province → regency →
district → village checking every table, download the village's XLSX and open it, sign out.
The screenshot of the national page is kept as ``docs/screenshots/hq-dashboard.png``.

Needs Debian ``chromium`` + ``chromium-driver`` (``make system-test`` installs them) and the
``selenium`` package (the ``test`` extra; it drives the system chromedriver, downloads nothing).
"""

from __future__ import annotations

import base64
import importlib.util
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from desmig_server.web.table import TABLE_KEYS, download_columns
from tests.server.support import PASSWORD, serve

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
# Written to docs/screenshots/ only when asked (docs/screenshots/make_all.sh sets the folder).
SCREENSHOT = Path(os.environ.get("DESMIG_SCREENSHOTS_DIR") or tempfile.mkdtemp(prefix="desmig-dash-shot-")) / "hq-dashboard.png"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000", "--lang=id-ID")


def _missing() -> str | None:
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install -e '.[test]')"
    if CHROMIUM is None or CHROMEDRIVER is None:
        return "Chromium not installed: apt-get install chromium chromium-driver (make system-test does)"
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    if reason := _missing():
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for flag in (*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER or ""))
    driver.set_page_load_timeout(30)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver, downloads
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def server(demo_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(demo_db, tmp_path_factory.mktemp("serve") / "serve.log") as base:
        yield base


def json_report(base: str, token: str, level: str, prefix: str) -> dict[str, Any]:
    response = httpx.get(f"{base}/v1/reports", params={"level": level, "prefix": prefix},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _number(text: str) -> int | None:
    text = text.strip().removeprefix("Rp ").replace(".", "")
    return None if text == "–" else int(text)


def shown_table(driver: Any) -> dict[str, dict[str, Any]]:
    """What the user sees: every row's code and its figures parsed from the displayed text."""
    from selenium.webdriver.common.by import By

    out: dict[str, dict[str, Any]] = {}
    for tr in driver.find_elements(By.CSS_SELECTOR, "#report-table tbody tr, #report-table tfoot tr"):
        cells = tr.find_elements(By.CSS_SELECTOR, "td.num")
        out[tr.get_attribute("data-code")] = {c.get_attribute("data-key"): _number(c.text) for c in cells}
    return out


def expected_table(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {r["code"]: {k: r[k] for k in TABLE_KEYS} for r in report["rows"]}
    out["totals"] = {k: report["totals"][k] for k in TABLE_KEYS}
    return out


def save_full_page(driver: Any, path: Path) -> None:
    """A PNG of the whole page, not just the viewport (Chrome DevTools ``captureBeyondViewport``)."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


def wait_for(predicate: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_sign_in_drill_down_to_a_village_and_download_its_xlsx(browser: tuple[Any, Path], server: str) -> None:
    from selenium.webdriver.common.by import By

    driver, downloads = browser
    token = httpx.post(f"{server}/v1/devices/register", json={"username": "pusat", "password": PASSWORD,
                                                              "device_name": "chromium-test"}, timeout=30).json()["token"]
    driver.get(server + "/")
    assert driver.current_url == server + "/login"
    assert driver.find_element(By.TAG_NAME, "h1").text == "Masuk ke dasbor HQ"
    driver.find_element(By.ID, "username").send_keys("pusat")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    wait_for(lambda: driver.current_url == server + "/")
    assert driver.find_element(By.ID, "region-name").text == "Nasional"
    national = json_report(server, token, "province", "")
    assert shown_table(driver) == expected_table(national)
    assert len(national["rows"]) == 4 and national["totals"]["households"] == 160
    assert len(driver.find_elements(By.CSS_SELECTOR, "svg.chart .bar-row")) >= 10  # three charts drawn

    save_full_page(driver, SCREENSHOT)  # the kept screenshot: the whole national page

    path = [("Jawa Barat", "32", "regency"), ("Kabupaten Bogor", "32.01", "district"),
            ("Cibinong", "32.01.01", "village"), ("Pondok Rajeg", "32.01.01.1001", "village")]
    for name, code, level in path:
        driver.find_element(By.LINK_TEXT, name).click()
        wait_for(lambda code=code: driver.current_url.endswith("kode=" + code))
        assert driver.find_element(By.ID, "region-name").text == name
        assert driver.find_element(By.ID, "region-level").get_attribute("data-level") == level
        crumbs = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".crumbs li")]
        assert crumbs[0] == "Nasional" and crumbs[-1] == name
        assert shown_table(driver) == expected_table(json_report(server, token, level, code))

    village = json_report(server, token, "village", "32.01.01.1001")
    tiles = {e.get_attribute("data-key"): _number(e.find_element(By.CLASS_NAME, "tile-value").text)
             for e in driver.find_elements(By.CSS_SELECTOR, ".tile")}
    assert tiles == {k: village["totals"][k] for k in tiles} and (tiles["households"] or 0) > 0

    driver.find_element(By.ID, "download-xlsx").click()
    done = wait_for(lambda: [p for p in downloads.glob("*.xlsx") if not p.name.endswith(".crdownload")])
    assert [p.name for p in done] == ["rekap-3201011001-village.xlsx"]
    rows = [list(r) for r in load_workbook(done[0])["Rekap"].iter_rows(values_only=True)]
    assert rows[0] == ["Kode", "Desa/kelurahan", *(c.header for c in download_columns())]
    assert rows[1] == ["32.01.01.1001", "Pondok Rajeg", *(c.value(village["rows"][0]) for c in download_columns())]
    assert rows[2][1] == "Jumlah" and len(rows) == 3

    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors  # no CSP violation, no missing resource
    driver.find_element(By.ID, "logout").click()
    wait_for(lambda: driver.current_url == server + "/login")
    driver.get(server + "/?kode=32")
    assert driver.current_url == server + "/login"
    assert re.search(r"Masuk", driver.title)
