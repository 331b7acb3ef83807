"""The HQ dashboard over HTTP (in-process): sign-in, CSRF, headers, roles, figures, downloads."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from desmig_desktop.domain.report_spec import METRIC
from desmig_server.auth.users import add_user
from desmig_server.db import tables as t
from desmig_server.reports.queries import build_report
from desmig_server.web import session
from desmig_server.web.session import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from desmig_server.web.table import TABLE_KEYS, download_columns
from tests.server.support import PASSWORD

from .conftest import csrf_of, login
from .pages import coverage, report_figures, table_figures, tile_figures

V1, V2, V3 = "32.01.01.1001", "32.01.01.1002", "32.01.02.2001"


def signed_in(client: Any, username: str = "pusat") -> Any:
    response = login(client, username)
    assert response.status_code == 303 and response.headers["location"] == "/", response.text
    return client


def report(client: Any, level: str, prefix: str = "") -> dict[str, Any]:
    return build_report(client.app.state.hq.db, level=level, prefix=prefix)


# -- sign-in, sessions, CSRF --------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/", "/?kode=32", "/download/rekap.xlsx", "/download/rekap.csv?kode=32.01"])
def test_anonymous_requests_go_to_the_login_form(client: Any, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_pages_carry_security_headers_and_no_inline_code(client: Any) -> None:
    page = client.get("/login")
    headers = page.headers
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert "script-src" not in csp  # no script at all: default-src 'none' forbids it
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin" and headers["cache-control"] == "no-store"
    assert "<script" not in page.text and " style=" not in page.text and " on" + "click" not in page.text
    cookie = headers["set-cookie"]
    assert cookie.startswith(LOGIN_CSRF_COOKIE + "=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    css = client.get("/static/desmig.css")
    assert css.headers["content-type"].startswith("text/css") and css.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/../app.py").status_code == 404 and client.get("/static/x.js").status_code == 404


def test_hq_signs_in_with_a_strict_httponly_session_cookie(client: Any) -> None:
    response = login(client, "pusat")
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and f"Max-Age={session.SESSION_TTL_S}" in cookie
    page = client.get("/")
    assert page.status_code == 200 and '<span class="who-name" id="who">pusat</span>' in page.text
    assert client.get("/login", follow_redirects=False).headers["location"] == "/"


@pytest.mark.parametrize("case", ["no token", "wrong token", "no cookie", "foreign origin"])
def test_login_without_a_valid_csrf_token_is_refused(client: Any, case: str) -> None:
    page = client.get("/login")
    form = {"username": "pusat", "password": "rahasia-123", "csrf": csrf_of(page.text)}
    headers = {}
    if case == "no token":
        del form["csrf"]
    elif case == "wrong token":
        form["csrf"] = "x" * 43
    elif case == "no cookie":
        client.cookies.delete(LOGIN_CSRF_COOKIE)
    else:
        headers["Origin"] = "https://evil.example"
    response = client.post("/login", data=form, headers=headers, follow_redirects=False)
    assert response.status_code == 400 and "Formulir kedaluwarsa" in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_wrong_password_then_lockout_shared_with_device_registration(client: Any) -> None:
    ctx = client.app.state.hq
    with ctx.db.write() as conn:
        add_user(conn, ctx.passwords, ctx.settings, username="sup-lock", role="supervisor", password=PASSWORD,
                 regency="32.01")
    for _ in range(4):
        response = login(client, "sup-lock", password="salah-sekali")
        assert response.status_code == 401 and "Nama pengguna atau kata sandi salah." in response.text
    # The fifth failure, through the sync API this time, locks the name for the dashboard too.
    api = client.post("/v1/devices/register", json={"username": "sup-lock", "password": "x", "device_name": "x"})
    assert api.status_code == 401
    response = login(client, "sup-lock")
    assert response.status_code == 429 and "Terlalu banyak percobaan gagal" in response.text
    assert int(response.headers["retry-after"]) > 0


def test_officers_are_refused_with_a_clear_message(client: Any) -> None:
    response = login(client, "ofc")
    assert response.status_code == 403
    assert "hanya untuk pengguna HQ dan supervisor" in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_forged_expired_or_stale_sessions_are_ignored(client: Any) -> None:
    ctx = client.app.state.hq
    key = session.session_key(ctx)
    with ctx.db.read() as conn:
        password_hash = conn.execute(t.users.select().where(t.users.c.username == "pusat")).one().password_hash

    def visit(cookie: str) -> int:
        client.cookies.set(SESSION_COOKIE, cookie)
        return int(client.get("/", follow_redirects=False).status_code)

    good = session.make_session(ctx, key, "pusat", password_hash)
    assert visit(good) == 200
    payload, signature = good.split(".")
    assert visit(f"{payload}.{signature[:-2]}AA") == 303  # bad signature
    assert visit(session.make_session(ctx, b"k" * 32, "pusat", password_hash)) == 303  # other key
    assert visit(session.make_session(ctx, key, "pusat", password_hash,
                                      now=time.time() - session.SESSION_TTL_S - 1)) == 303
    assert visit(session.make_session(ctx, key, "ofc", password_hash)) == 303  # an officer never has a session
    assert visit(good) == 200
    with ctx.db.write() as conn:  # a password change ends every session of that user
        conn.execute(update(t.users).where(t.users.c.username == "pusat").values(password_hash=password_hash + "x"))
    try:
        assert visit(good) == 303
    finally:
        with ctx.db.write() as conn:
            conn.execute(update(t.users).where(t.users.c.username == "pusat").values(password_hash=password_hash))


def test_logout_needs_the_form_token_and_clears_the_session(client: Any) -> None:
    signed_in(client)
    page = client.get("/")
    assert client.post("/logout", data={"csrf": "nope"}, follow_redirects=False).status_code == 400
    assert client.get("/", follow_redirects=False).status_code == 200
    response = client.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert client.get("/", follow_redirects=False).status_code == 303


def _copy_of_session(client: Any) -> Any:
    """A second browser (another client on the same app) holding a copy of ``client``'s cookie."""
    from fastapi.testclient import TestClient

    thief = TestClient(client.app, base_url="http://testserver")
    thief.cookies.set(SESSION_COOKIE, client.cookies.get(SESSION_COOKIE))
    return thief


@pytest.mark.parametrize("then", ["nothing", "log in again"])
def test_a_copied_session_cookie_is_dead_after_logout(client: Any, then: str) -> None:
    signed_in(client)
    thief = _copy_of_session(client)
    assert thief.get("/", follow_redirects=False).status_code == 200  # the copy works while signed in
    page = client.get("/")
    assert client.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False).status_code == 303
    if then == "log in again":  # a new session for the user does not revive the old cookie
        signed_in(client)
        assert client.get("/", follow_redirects=False).status_code == 200
    for path in ("/", "/?kode=32", "/download/rekap.csv"):
        assert thief.get(path, follow_redirects=False).status_code == 303, path
    assert thief.post("/logout", data={"csrf": "x"}, follow_redirects=False).status_code == 303


def test_disabling_a_user_ends_its_sessions_and_refuses_its_sign_in(client: Any) -> None:
    from desmig_server.auth.users import set_disabled

    ctx = client.app.state.hq
    with ctx.db.write() as conn:
        add_user(conn, ctx.passwords, ctx.settings, username="sup-off", role="supervisor", password=PASSWORD,
                 regency="32.01")
    signed_in(client, "sup-off")
    thief = _copy_of_session(client)
    with ctx.db.write() as conn:
        set_disabled(conn, username="sup-off", disabled=True)
    assert client.get("/", follow_redirects=False).status_code == 303
    assert thief.get("/", follow_redirects=False).status_code == 303
    refused = login(client, "sup-off")
    assert refused.status_code == 403 and "Akun ini dinonaktifkan" in refused.text
    assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")
    assert login(client, "sup-off", password="salah-sekali").status_code == 401  # nothing told without it
    with ctx.db.write() as conn:
        set_disabled(conn, username="sup-off", disabled=False)
    signed_in(client, "sup-off")


# -- figures and drill-down ---------------------------------------------------------------------
@pytest.mark.parametrize(("kode", "level", "codes"), [
    ("", "province", ["32", "33"]),
    ("32", "regency", ["32.01"]),
    ("32.01", "district", ["32.01.01", "32.01.02"]),
    ("32.01.01", "village", [V1, V2]),
    (V1, "village", [V1]),
])
def test_every_level_shows_the_json_reports_figures(client: Any, kode: str, level: str, codes: list[str]) -> None:
    signed_in(client)
    page = client.get("/", params={"kode": kode})
    assert page.status_code == 200
    expected = report(client, level, kode)
    shown = table_figures(page.text)
    assert list(shown) == [*codes, "totals"] and shown == report_figures(expected)
    assert tile_figures(page.text) == {k: expected["totals"][k] for k in tile_figures(page.text)}
    for code in codes:  # drill-down links (none on a single village's page)
        assert (f'href="/?kode={code}"' in page.text) == (kode != V1)


@pytest.mark.parametrize(("kode", "line"), [
    ("", "2 provinsi · 2 kabupaten/kota · 3 kecamatan · 4 desa/kelurahan"),  # V5 holds only a deleted household
    ("32", "1 kabupaten/kota · 2 kecamatan · 3 desa/kelurahan"),
    ("32.01.01", "2 desa/kelurahan"),
    (V1, None),  # a village: nothing finer to count
])
def test_the_page_says_at_the_top_how_many_areas_hold_data(client: Any, kode: str, line: str | None) -> None:
    signed_in(client)
    page = client.get("/", params={"kode": kode}).text
    found = coverage(page)
    assert (found[0] if found else None) == line
    if found is not None:
        totals = report(client, "village", kode)["totals"]
        assert found[1] == {k: totals[k] for k in found[1]}
        assert page.index('id="coverage"') < page.index('class="tiles"')  # at the top, before the figures


def test_tiles_say_what_they_count(client: Any) -> None:
    signed_in(client)
    page = client.get("/").text
    tiles = tile_figures(page)
    assert tiles["businesses"] == 4 and tiles["businesses_closed"] == 2  # bA2, bB1 apart from the active ones
    assert tiles["remittance_total"] == 16_000_001  # open placements of PMI aktif only
    assert 'data-key="businesses" data-value="4" title="Unit usaha berstatus aktif' in page
    assert ">Unit usaha aktif<" in page and ">Remitansi per bulan saat ini (jumlah)<" in page


def test_charts_draw_the_totals(client: Any) -> None:
    signed_in(client)
    page = client.get("/", params={"kode": "32.01"}).text
    assert 'id="chart-sector"' in page and 'data-label="G · Perdagangan Besar dan Eceran' in page
    assert '<g class="bar-row" data-label="Hong Kong" data-value="3">' in page
    assert '<g class="bar-row" data-label="PMI aktif" data-value="4">' in page
    assert '<g class="bar-row" data-label="Bukan PMI (keluarga)" data-value="1">' in page  # a3


def test_supervisor_lands_on_the_regency_and_sees_nothing_outside(client: Any) -> None:
    signed_in(client, "sup")
    page = client.get("/")
    assert list(table_figures(page.text)) == ["32.01.01", "32.01.02", "totals"]
    assert 'id="region-name">Kabupaten Bogor<' in page.text
    national = table_figures(client.get("/", params={"kode": ""}).text)
    assert list(national) == ["32", "totals"] and national["totals"]["households"] == 4  # not V4's 2
    for path in ("/?kode=33", "/?kode=33.02.01.2001", "/download/rekap.xlsx?kode=33"):
        response = client.get(path)
        assert response.status_code == 403 and "di luar wilayah kerja Anda" in response.text


@pytest.mark.parametrize("kode", ["99", "32.99", "<script>", "32.1"])
def test_unknown_or_malformed_region_codes(client: Any, kode: str) -> None:
    signed_in(client)
    response = client.get("/", params={"kode": kode})
    assert response.status_code == 404 and "<script>" not in response.text


# -- downloads ----------------------------------------------------------------------------------
def test_xlsx_download_has_the_shown_columns_then_the_breakdowns(client: Any) -> None:
    signed_in(client)
    response = client.get("/download/rekap.xlsx", params={"kode": "32.01"})
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="rekap-3201-district.xlsx"'
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Rekap", "Keterangan"]
    rows = [list(r) for r in workbook["Rekap"].iter_rows(values_only=True)]
    headers = ["Kode", "Kecamatan", *(c.header for c in download_columns())]
    assert rows[0] == headers
    assert headers[2:2 + len(TABLE_KEYS)] == [METRIC[k].label for k in TABLE_KEYS]
    assert headers[2:5] == ["Rumah tangga", "Anggota rumah tangga", "PMI aktif"]
    expected = report(client, "district", "32.01")
    assert rows[1][:4] == ["32.01.01", "Cibinong", 3, 5] and rows[2][:2] == ["32.01.02", "Gunungputri"]
    for line, source in zip(rows[1:], [*expected["rows"], expected["totals"]]):
        assert line[2:] == [c.value(source) for c in download_columns()]
    assert rows[-1][:2] == [None, "Jumlah"]
    assert rows[-1][headers.index("Remitansi per bulan saat ini (median)")] == 4_500_000  # 1.000001, 4, 5, 6
    assert rows[-1][headers.index("Unit usaha tutup")] == 2 and rows[-1][headers.index("Kecamatan dengan data")] == 2
    assert rows[-1][headers.index("Usaha KBLI I")] == 1 and rows[-1][headers.index("UMKM tidak diketahui")] == 1
    notes = {r[0]: r[1] for r in workbook["Keterangan"].iter_rows(values_only=True) if r and r[0]}
    assert notes["Wilayah"] == "Nasional › Jawa Barat › Kabupaten Bogor" and notes["Oleh"] == "pusat"
    assert notes["PMI aktif"] == METRIC["pmi_active"].counted_id
    assert notes["Unit usaha aktif"] == METRIC["businesses"].counted_id


def test_csv_download_matches_the_xlsx(client: Any) -> None:
    signed_in(client)
    response = client.get("/download/rekap.csv", params={"kode": "32.01.01"})
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    xlsx = load_workbook(io.BytesIO(client.get("/download/rekap.xlsx", params={"kode": "32.01.01"}).content))
    as_text = [["" if v is None else str(v) for v in r] for r in xlsx["Rekap"].iter_rows(values_only=True)]
    assert rows == as_text and rows[0][1] == "Desa/kelurahan" and [r[0] for r in rows[1:]] == [V1, V2, ""]


def test_a_region_without_data_says_so(client: Any) -> None:
    signed_in(client)
    page = client.get("/", params={"kode": "35"})
    assert page.status_code == 200 and 'id="no-data"' in page.text and "Jawa Timur" in page.text
    assert table_figures(page.text) == {} and 'id="chart-sector"' not in page.text
