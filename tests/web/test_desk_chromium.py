"""The review desk in real headless Chromium against a real ``desmig-hq serve``, with real laptop
stores syncing to it (issue 18 §3).

Two officers' laptops make a conflict; the supervisor signs in, finds it with the filters, enters a
third value; both laptops sync and hold that value. HQ creates an officer with the region picker
(that officer's new laptop then pulls the village), resets a password, disables and enables a user
and revokes a device — each checked on the laptop's next sync — and every action is in the admin
log. Screenshots of each page go to ``docs/screenshots/hq-desk-*.png``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from desmig_desktop.sync.errors import SyncError
from tests.sync.fixtures import hq_template, make_device, own_hq, scratch  # noqa: F401 (fixtures)
from tests.sync.harness import PASSWORD, VILLAGE_1, Device, HqServer
from tests.web.test_dashboard_chromium import browser, save_full_page, wait_for  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e
# The kept screenshots are written only when asked (docs/screenshots/make_all.sh sets the folder):
# a test run leaves the checkout as it found it.
SHOTS = Path(os.environ.get("DESMIG_SCREENSHOTS_DIR") or tempfile.mkdtemp(prefix="desmig-desk-shots-"))


def _sign_in(driver: Any, base: str, username: str) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(base + "/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    wait_for(lambda: driver.current_url == base + "/")


def _click(driver: Any, css: str) -> None:
    from selenium.webdriver.common.by import By

    before = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, css).click()
    wait_for(lambda: _stale(before))


def _stale(element: Any) -> bool:
    """The page holding ``element`` was replaced. While the new page loads, chromedriver may say so
    as "Node with given id does not belong to the document" instead of a stale reference."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise


def _synced(device: Device) -> Any:
    report = device.sync()
    assert device.pending() == 0
    return report


@pytest.fixture
def desk(own_hq: HqServer, make_device: Callable[[str], Device]) -> Iterator[tuple[HqServer, Device, Device]]:
    done = own_hq.hq("user", "add", "sup", "--role", "supervisor", "--regency", VILLAGE_1[:5], "--password-stdin",
                     stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    ana, budi = make_device("ana"), make_device("budi")
    for device in (ana, budi):
        device.login(own_hq, device.name)
    yield own_hq, ana, budi


def test_supervisor_resolves_a_conflict_and_hq_administers_users(
        browser: tuple[Any, Path], desk: tuple[HqServer, Device, Device],
        make_device: Callable[[str], Device]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver, _downloads = browser
    server, ana, budi = desk
    base = server.url
    hid = ana.create_household(VILLAGE_1, members=2, head="Sutrisno")
    ana.edit("members", f"{hid[:30]}-m0", nik="3501014101900001", phone="081234567890")  # synthetic
    _synced(ana)
    _synced(budi)
    budi.edit("households", hid, head_name="Sutrisna")  # budi first ...
    ana.edit("households", hid, head_name="Sutrisno Hadi")  # ... ana later: ana wins, budi's value loses
    _synced(budi)
    _synced(ana)
    _synced(budi)  # budi's laptop learns its value lost: its inbox shows the conflict
    assert [tuple(r) for r in budi.db.execute("SELECT field, status FROM sync_conflicts").fetchall()] == \
        [("head_name", "open")]
    [conflict] = server.query("SELECT id, loser_user FROM conflicts WHERE status = 'open'")
    assert conflict["loser_user"] == "budi"

    # -- the supervisor -----------------------------------------------------------------------------
    _sign_in(driver, base, "sup")
    driver.find_element(By.ID, "nav-conflicts").click()
    wait_for(lambda: driver.current_url == base + "/konflik")
    driver.find_element(By.ID, "filter-village").send_keys(VILLAGE_1)
    driver.find_element(By.ID, "filter-officer").send_keys("budi")
    _click(driver, "#filter-submit")
    rows = driver.find_elements(By.CSS_SELECTOR, "#conflicts-table tbody tr")
    assert [r.get_attribute("data-conflict") for r in rows] == [str(conflict["id"])]
    assert "Sutrisno Hadi" in rows[0].text and "Sutrisna" in rows[0].text
    save_full_page(driver, SHOTS / "hq-desk-conflicts.png")
    _click(driver, f'a[href="/konflik/{conflict["id"]}"]')
    assert driver.find_element(By.ID, "winning-value").text == "Sutrisno Hadi"
    assert driver.find_element(By.ID, "losing-value").text == "Sutrisna"
    driver.find_element(By.ID, "choice-value").click()
    driver.find_element(By.ID, "third-value").send_keys("Sutrisno Hadiwijaya")
    save_full_page(driver, SHOTS / "hq-desk-conflict.png")
    _click(driver, "#resolve-submit")
    assert driver.find_element(By.ID, "resolved-note").get_attribute("data-resolution") == "set_value"
    for device in (ana, budi):  # the officers' next sync brings the outcome
        _synced(device)
        assert device.row("households", hid)["head_name"] == "Sutrisno Hadiwijaya"

    driver.find_element(By.ID, "nav-quality").click()
    wait_for(lambda: driver.current_url.startswith(base + "/mutu"))
    assert driver.find_element(By.CSS_SELECTOR, f'tr[data-code="{VILLAGE_1}"]')
    save_full_page(driver, SHOTS / "hq-desk-quality.png")
    _click(driver, f'a[href="/mutu/desa?kode={VILLAGE_1}"]')
    officer_rows = driver.find_elements(By.CSS_SELECTOR, "#village-officers tr[data-officer]")
    officers = {e.get_attribute("data-officer") for e in officer_rows}
    assert officers == {"ana", "budi"}
    save_full_page(driver, SHOTS / "hq-desk-village.png")
    _click(driver, f'a[href="/rumah-tangga/{hid}"]')
    assert driver.find_element(By.ID, "household-head").text == "Sutrisno Hadiwijaya"
    assert len(driver.find_elements(By.CSS_SELECTOR, ".member")) == 2
    shown = driver.find_element(By.TAG_NAME, "main").text
    assert "3501********0001" in shown and "3501014101900001" not in shown and "081234567890" not in shown
    save_full_page(driver, SHOTS / "hq-desk-household.png")
    assert not driver.find_elements(By.ID, "nav-users")  # user administration is HQ's
    driver.get(base + "/pengguna")
    assert driver.find_element(By.ID, "page-error").text == "Halaman ini hanya untuk admin HQ."

    # -- HQ: create an officer with the region picker ---------------------------------------------------
    _sign_in(driver, base, "pusat")
    driver.find_element(By.ID, "nav-users").click()
    wait_for(lambda: driver.current_url == base + "/pengguna")
    save_full_page(driver, SHOTS / "hq-desk-users.png")
    _click(driver, "#new-user")
    driver.find_element(By.ID, "new-username").send_keys("dewi")
    Select(driver.find_element(By.ID, "new-role")).select_by_value("officer")
    for code in (VILLAGE_1[:2], VILLAGE_1[:5], VILLAGE_1[:8]):  # province → regency → district
        _click(driver, f'#picker-list button[name="buka"][value="{code}"]')
    driver.find_element(By.CSS_SELECTOR, f'#picker-list input[value="{VILLAGE_1}"]').click()
    assert driver.find_element(By.ID, "new-username").get_attribute("value") == "dewi"  # kept across the moves
    save_full_page(driver, SHOTS / "hq-desk-user-new.png")
    driver.find_element(By.ID, "new-password").send_keys("pendek")
    driver.find_element(By.ID, "new-password-again").send_keys("pendek")
    _click(driver, "#new-user-submit")  # too short: said on the field, nothing stored
    assert "minimal 8 karakter" in driver.find_element(By.ID, "error-password").text
    assert not server.query("SELECT 1 FROM users WHERE username = 'dewi'")
    assert driver.find_element(By.CSS_SELECTOR, f'input[value="{VILLAGE_1}"]').is_selected()
    driver.find_element(By.ID, "new-password").send_keys(PASSWORD)
    driver.find_element(By.ID, "new-password-again").send_keys(PASSWORD)
    _click(driver, "#new-user-submit")
    assert driver.find_element(By.ID, "notice").text == "Pengguna dibuat."
    dewi = make_device("dewi")
    dewi.login(server, "dewi")
    _synced(dewi)
    assert dewi.row("households", hid)["head_name"] == "Sutrisno Hadiwijaya"

    # -- HQ: reset budi's password, disable and enable ana, revoke budi's laptop ----------------------
    driver.get(base + "/pengguna/budi")
    driver.find_element(By.ID, "reset-password").send_keys("sandi-baru-budi")
    driver.find_element(By.ID, "reset-password-again").send_keys("sandi-baru-budi")
    _click(driver, "#password-submit")
    _synced(budi)  # a routine reset leaves the laptop syncing
    save_full_page(driver, SHOTS / "hq-desk-user.png")
    _click(driver, "button.revoke")
    assert driver.find_element(By.CSS_SELECTOR, "#devices-table tr").get_attribute("data-revoked") in (None, "1")
    with pytest.raises(SyncError) as refused:
        budi.sync()
    assert refused.value.status == 401
    driver.get(base + "/pengguna/ana")
    _click(driver, "#status-submit")
    assert driver.find_element(By.ID, "user-disabled")
    with pytest.raises(SyncError) as refused:
        ana.sync()
    assert refused.value.status == 401
    _click(driver, "#status-submit")
    assert not driver.find_elements(By.ID, "user-disabled")
    ana.edit("households", hid, notes="dicek lagi")
    _synced(ana)  # enabled again: the same laptop carries on

    log = [(r["actor"], r["action"], r["target"]) for r in server.query(
        "SELECT actor, action, target FROM admin_log ORDER BY id")]
    assert log == [("sup", "conflict_resolve", f"conflict:{conflict['id']}"), ("pusat", "user_create", "user:dewi"),
                   ("pusat", "user_password", "user:budi"), ("pusat", "device_revoke", "user:budi"),
                   ("pusat", "user_disable", "user:ana"), ("pusat", "user_enable", "user:ana")]
    details = " ".join(r["detail"] for r in server.query("SELECT detail FROM admin_log"))
    assert PASSWORD not in details and "sandi-baru" not in details and "Sutrisno" not in details
    assert json.loads(server.query("SELECT detail FROM admin_log WHERE action = 'user_create'")[0]["detail"])[
        "villages"] == [VILLAGE_1]
    # No CSP violation, no missing resource; the two refusals this test asked for are expected.
    expected = ("/pengguna - Failed to load resource: the server responded with a status of 403",
                "/pengguna/baru - Failed to load resource: the server responded with a status of 422")
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"
              and not any(x in e["message"] for x in expected)]
    assert not errors, errors
