"""The review desk over HTTP (in-process), on SQLite and PostgreSQL: who may open which page
(a table of role × page × status, scopes included), resolving conflicts through the push's write
path, user administration with field checks, CSRF, and the admin log.

Every refused or invalid action is checked to leave the whole database as it was (``Hq.snapshot``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from desmig_server.app import create_app
from desmig_server.db import tables as t
from desmig_server.review import quality
from tests.server.conftest import BACKENDS, fresh_db_url, hq_pg, hq_sqlite_template  # noqa: F401 (fixtures)
from tests.server.support import PASSWORD, V1, V2, V_OTHER, Hq, member

from .conftest import TestClient, csrf_of, login, without_tokens
from .desk_data import seed


@pytest.fixture(params=BACKENDS)
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Hq, dict[str, Any]]]:
    url = fresh_db_url(request.param, request, tmp_path)
    app = create_app(url)
    with TestClient(app, base_url="http://testserver") as client:
        hq = Hq(app.state.hq, client)
        yield hq, seed(hq)


def as_user(hq: Hq, name: str | None) -> Any:
    """The client signed in as ``name`` (signing in only when it is not already: a sign-in writes rows)."""
    if getattr(hq, "signed_in_as", "-") != name:
        hq.client.cookies.clear()
        if name is not None:
            assert login(hq.client, name).status_code == 303
        hq.signed_in_as = name  # type: ignore[attr-defined]
    return hq.client


def form_token(client: Any, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


# -- access ---------------------------------------------------------------------------------------
# (path, {user: status}); "C1"/"C2" stand for the ids of the conflicts in V1 (regency 32.01) and
# V_OTHER (33.02); sup is the supervisor of 32.01, sup2 of 33.02; None = not signed in.
ACCESS: list[tuple[str, dict[str | None, int]]] = [
    ("/konflik", {None: 303, "sup": 200, "sup2": 200, "pusat": 200}),
    ("/konflik/C1", {None: 303, "sup": 200, "sup2": 404, "pusat": 200}),
    ("/konflik/C2", {"sup": 404, "sup2": 200, "pusat": 200}),
    ("/konflik/999999", {"sup": 404, "pusat": 404}),
    ("/konflik/abc", {"sup": 404}),
    (f"/konflik?desa={V1}", {"sup": 200, "sup2": 404, "pusat": 200}),
    (f"/konflik?desa={V_OTHER}", {"sup": 404, "sup2": 200}),
    ("/konflik?desa=32.01", {"sup": 400}),
    ("/konflik?umur=0", {"sup": 400}),
    ("/konflik?petugas=A%20B", {"sup": 400}),
    ("/mutu", {None: 303, "sup": 200, "sup2": 200, "pusat": 200}),
    ("/mutu?kode=33", {"sup": 403, "sup2": 200, "pusat": 200}),
    ("/mutu?kode=32.01.01", {"sup": 200, "sup2": 403}),
    ("/mutu?kode=9x", {"sup": 404}),
    ("/mutu?hari=0", {"sup": 400}),
    (f"/mutu/desa?kode={V1}", {None: 303, "sup": 200, "sup2": 404, "pusat": 200}),
    (f"/mutu/desa?kode={V_OTHER}", {"sup": 404, "sup2": 200, "pusat": 200}),
    ("/mutu/desa?kode=32.01", {"sup": 404}),
    ("/rumah-tangga/h1", {None: 303, "sup": 200, "sup2": 404, "pusat": 200}),
    ("/rumah-tangga/h2", {"sup": 404, "sup2": 200, "pusat": 200}),
    ("/rumah-tangga/m1", {"sup": 404, "pusat": 404}),  # a member id is not a household
    ("/rumah-tangga/nope", {"sup": 404, "pusat": 404}),
    ("/pengguna", {None: 303, "sup": 403, "sup2": 403, "pusat": 200}),
    ("/pengguna/baru", {None: 303, "sup": 403, "pusat": 200}),
    ("/pengguna/ofc", {None: 303, "sup": 403, "pusat": 200}),
    ("/pengguna/nobody", {"pusat": 404}),
    ("/pengguna/Bad%20Name", {"pusat": 404}),
]


def test_access_table_role_page_status(desk: tuple[Hq, dict[str, Any]]) -> None:
    hq, info = desk
    seen: list[tuple[str, str | None, int, int]] = []
    for user in (None, "sup", "sup2", "pusat"):
        client = as_user(hq, user)
        for path, expected in ACCESS:
            if user not in expected:
                continue
            url = path.replace("C1", str(info["conflict_v1"])).replace("C2", str(info["conflict_other"]))
            got = client.get(url, follow_redirects=False).status_code
            seen.append((path, user, expected[user], got))
    wrong = [s for s in seen if s[2] != s[3]]
    assert not wrong, wrong


def test_out_of_scope_answers_look_like_missing_ones(desk: tuple[Hq, dict[str, Any]]) -> None:
    hq, info = desk
    client = as_user(hq, "sup")
    elsewhere = client.get(f"/konflik/{info['conflict_other']}").text
    missing = client.get("/konflik/999999").text
    assert elsewhere == missing  # nothing tells that the conflict exists in another regency
    # the page's form token is random text: it may hold "h2" itself (it did, once), so it goes first
    def page(record_id: str) -> str:
        text_ = re.sub(r'value="[A-Za-z0-9_-]{20,}"', 'value="token"', client.get(f"/rumah-tangga/{record_id}").text)
        return text_.replace(record_id, "")

    assert page("h2") == page("zz")


def test_lists_show_only_the_callers_scope(desk: tuple[Hq, dict[str, Any]]) -> None:
    hq, info = desk
    sup = as_user(hq, "sup").get("/konflik").text
    assert f'data-conflict="{info["conflict_v1"]}"' in sup and f'data-conflict="{info["conflict_other"]}"' not in sup
    assert "Nama HQ" not in sup and "Nama Petugas" not in sup
    quality = as_user(hq, "sup").get("/mutu").text
    assert f'data-code="{V1}"' in quality and f'data-code="{V_OTHER}"' not in quality
    everything = as_user(hq, "pusat").get("/konflik").text
    assert f'data-conflict="{info["conflict_other"]}"' in everything
    by_officer = as_user(hq, "pusat").get("/konflik?petugas=ofc3").text
    assert f'data-conflict="{info["conflict_other"]}"' in by_officer
    assert f'data-conflict="{info["conflict_v1"]}"' not in by_officer
    assert 'data-conflict=' not in as_user(hq, "pusat").get("/konflik?umur=3").text  # all made just now


def test_household_view_masks_nik_kk_and_phone(desk: tuple[Hq, dict[str, Any]]) -> None:
    hq, _info = desk
    page = without_tokens(as_user(hq, "sup").get("/rumah-tangga/h1").text)
    assert "3201014101900001" not in page and "3201********0001" in page  # the member's NIK
    assert "3201010101010001" not in page  # the KK
    assert "Siti Aminah" in page and 'href="/mutu/desa?kode=32.01.01.1001"' in page
    village = as_user(hq, "sup").get(f"/mutu/desa?kode={V1}").text
    assert 'href="/rumah-tangga/h1"' in village  # the household view is reached from the village page


def test_duplicates_link_both_households_to_the_household_view(desk: tuple[Hq, dict[str, Any]]) -> None:
    hq, _info = desk
    boss = hq.register("pusat", device_name="dup")
    boss.push_ok(boss.op("members", "m3", {**member("h2", name="Siti Kembar", nik="3201014101900001")}))
    page = as_user(hq, "pusat").get("/duplikat").text
    assert 'href="/rumah-tangga/h1"' in page and 'href="/rumah-tangga/h2"' in page
    for hid in ("h1", "h2"):
        assert as_user(hq, "pusat").get(f"/rumah-tangga/{hid}").status_code == 200
    sup = as_user(hq, "sup").get("/duplikat").text  # the household outside its regency is not linked
    assert 'href="/rumah-tangga/h1"' in sup and 'href="/rumah-tangga/h2"' not in sup


def test_quality_figures(desk: tuple[Hq, dict[str, Any]]) -> None:
    hq, _info = desk
    page = as_user(hq, "pusat").get("/mutu").text
    row = page.split(f'data-code="{V1}"')[1].split("</tr>")[0]
    assert 'data-key="without_head">1<' in row and 'data-key="rejected">1<' in row and "ofc2" in row
    other = page.split(f'data-code="{V_OTHER}"')[1].split("</tr>")[0]
    assert 'data-key="without_head">0<' in other and 'data-key="rejected">0<' in other
    # The rejected op is fixed by a later accepted op on the same record: no longer listed.
    ofc = hq.register("ofc", device_name="fix")
    ofc.push_ok(ofc.op("members", "m1", {"sex": "L"}, base=hq.record("members", "m1").version))
    fixed = as_user(hq, "pusat").get("/mutu").text.split(f'data-code="{V1}"')[1].split("</tr>")[0]
    assert 'data-key="rejected">0<' in fixed


def test_quality_lists_a_page_of_villages(desk: tuple[Hq, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    """A nation holds ~50,000 villages: /mutu shows a page of them, the totals about all of them."""
    hq, _info = desk
    monkeypatch.setattr(quality, "PAGE_SIZE", 1, raising=False)  # two villages hold data: two pages
    client = as_user(hq, "pusat")
    pages = [client.get("/mutu").text, client.get("/mutu?halaman=2").text]
    shown = [re.findall(r'<tr data-code="([0-9.]+)"', page) for page in pages]
    assert [len(codes) for codes in shown] == [1, 1] and sorted(shown[0] + shown[1]) == sorted([V1, V_OTHER])
    assert 'id="page-next" href="/mutu?kode=&amp;hari=14&amp;halaman=2"' in pages[0] and 'id="page-next"' not in pages[1]
    assert all('data-key="households"><div class="tile-value">2<' in page for page in pages)  # both villages
    assert client.get("/mutu?halaman=3").status_code == 404
    assert client.get("/mutu?halaman=0").status_code == 400 and client.get("/mutu?halaman=x").status_code == 400
    assert 'id="quality-pager"' not in as_user(hq, "sup").get("/mutu").text  # one village: one page


# -- resolving conflicts -----------------------------------------------------------------------------
def _resolve(hq: Hq, user: str, conflict_id: int, **form: str) -> Any:
    client = as_user(hq, user)
    token = form_token(client, f"/konflik/{conflict_id}")
    return client.post(f"/konflik/{conflict_id}", data={"csrf": token, **form}, follow_redirects=False)


@pytest.mark.parametrize(("choice", "typed", "expected"), [
    ("keep", "", "Nama Pertama"), ("other", "", "Nama Kedua"), ("value", "Nama Ketiga", "Nama Ketiga")])
def test_resolving_writes_a_new_version_the_officers_pull(desk: tuple[Hq, dict[str, Any]], choice: str, typed: str,
                                                          expected: str) -> None:
    hq, info = desk
    loser = info["devices"]["ofc2"]
    since = loser.pull_all(V1)[-1]["server_seq"] if loser.pull_all(V1) else 0
    before = hq.record("households", "h1").version
    response = _resolve(hq, "sup", info["conflict_v1"], pilihan=choice, nilai=typed)
    assert response.status_code == 303, response.text
    row = next(c for c in hq.conflicts() if c["id"] == info["conflict_v1"])
    assert (row["status"], row["resolved_by"]) == ("resolved", "sup")
    assert row["resolution"] == {"keep": "dismiss", "other": "apply_losing", "value": "set_value"}[choice]
    assert hq.data("households", "h1")["head_name"] == expected
    pulled = [r for r in loser.pull_all(V1, since) if r["id"] == "h1"]
    if choice == "keep":
        assert hq.record("households", "h1").version == before and not pulled
    else:
        assert hq.record("households", "h1").version > before
        assert pulled[-1]["data"]["head_name"] == expected  # the officer's next sync brings the outcome
    with hq.ctx.db.read() as conn:
        log = conn.execute(select(t.admin_log)).mappings().all()
        history = conn.execute(select(t.record_history.c.username, t.record_history.c.changes).where(
            t.record_history.c.record_id == "h1").order_by(t.record_history.c.id.desc())).first()
    assert [(e["actor"], e["action"], e["target"]) for e in log] == [("sup", "conflict_resolve",
                                                                      f"conflict:{info['conflict_v1']}")]
    assert json.loads(log[0]["detail"])["choice"] == choice and expected not in log[0]["detail"]  # no values
    if choice != "keep":
        assert history.username == "sup" and json.loads(history.changes)["head_name"][1] == expected
    page = as_user(hq, "sup").get(f"/konflik/{info['conflict_v1']}").text
    assert 'id="resolved-note"' in page and 'id="resolve-form"' not in page


@pytest.mark.parametrize(("entity", "rid", "field", "ours", "theirs", "typed", "stored"), [
    ("members", "m1", "education", "sd", "smp", "sma", "sma"),  # a choice from the page's list
    ("households", "h1", "rt", "1", "2", "7", "007"),  # digits, zero-padded like any push
    ("households", "h1", "hamlet", "Dusun A", "Dusun B", "  Dusun C  ", "Dusun C"),  # stripped like any push
])
def test_a_third_value_is_normalised_like_a_push(desk: tuple[Hq, dict[str, Any]], entity: str, rid: str, field: str,
                                                 ours: Any, theirs: Any, typed: str, stored: Any) -> None:
    hq, info = desk
    a, b = info["devices"]["ofc"], info["devices"]["ofc2"]
    for device in (a, b):
        device.pull_all(V1)
    b.push_ok(b.op(entity, rid, {field: theirs}))
    a.push_ok(a.op(entity, rid, {field: ours}))
    conflict = max(c["id"] for c in hq.conflicts() if c["field"] == field)
    response = _resolve(hq, "sup", conflict, pilihan="value", nilai=typed)
    assert response.status_code == 303, response.text[-800:]
    assert hq.data(entity, rid)[field] == stored


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"pilihan": "value", "nilai": ""}, 422, "Isi nilai ketiga"),
    ({"pilihan": "value", "nilai": "x" * 151}, 422, "Nilai ini tidak bisa disimpan"),
    ({"pilihan": "value", "nilai": "Nama\x01Kontrol"}, 422, "Nilai ini tidak bisa disimpan"),
    ({"pilihan": "hapus"}, 422, "Pilih salah satu cara"),
    ({}, 422, "Pilih salah satu cara"),
])
def test_invalid_resolutions_change_nothing(desk: tuple[Hq, dict[str, Any]], form: dict[str, str], status: int,
                                            message: str) -> None:
    hq, info = desk
    client = as_user(hq, "sup")
    token = form_token(client, f"/konflik/{info['conflict_v1']}")
    before = hq.snapshot()
    response = client.post(f"/konflik/{info['conflict_v1']}", data={"csrf": token, **form}, follow_redirects=False)
    assert response.status_code == status and message in response.text, response.text[-1500:]
    assert hq.snapshot() == before


@pytest.mark.parametrize("case", ["no token", "wrong token", "foreign origin", "other regency", "resolved twice"])
def test_refused_posts_change_nothing(desk: tuple[Hq, dict[str, Any]], case: str) -> None:
    hq, info = desk
    client = as_user(hq, "sup")
    target = info["conflict_other"] if case == "other regency" else info["conflict_v1"]
    token = form_token(client, f"/konflik/{info['conflict_v1']}")
    data, headers = {"csrf": token, "pilihan": "other"}, {}
    if case == "no token":
        del data["csrf"]
    elif case == "wrong token":
        data["csrf"] = "x" * 43
    elif case == "foreign origin":
        headers["Origin"] = "https://evil.example"
    elif case == "resolved twice":
        assert client.post(f"/konflik/{target}", data=data, follow_redirects=False).status_code == 303
    before = hq.snapshot()
    response = client.post(f"/konflik/{target}", data=data, headers=headers, follow_redirects=False)
    expected = {"other regency": 404, "resolved twice": 409}.get(case, 400)
    assert response.status_code == expected, response.text[-800:]
    assert hq.snapshot() == before


# -- user administration -----------------------------------------------------------------------------
def _admin_post(hq: Hq, path: str, form: dict[str, Any], page: str | None = None) -> Any:
    client = as_user(hq, "pusat")
    token = form_token(client, page or path)
    return client.post(path, data={"csrf": token, **form}, follow_redirects=False)


GOOD_OFFICER = {"username": "dewi", "peran": "officer", "password": "kata-sandi-1", "password_again": "kata-sandi-1",
                "desa": [V1, V2], "simpan": "1"}


def test_hq_creates_an_officer_who_can_then_sync(desk: tuple[Hq, dict[str, Any]]) -> None:
    hq, _info = desk
    response = _admin_post(hq, "/pengguna/baru", GOOD_OFFICER)
    assert response.status_code == 303 and response.headers["location"] == "/pengguna/dewi?dibuat=1"
    with hq.ctx.db.read() as conn:
        scopes = sorted(conn.execute(select(t.user_scopes.c.village_code).where(
            t.user_scopes.c.username == "dewi")).scalars())
        log = conn.execute(select(t.admin_log)).mappings().all()
    assert scopes == [V1, V2]
    assert [(e["actor"], e["action"], e["target"]) for e in log] == [("pusat", "user_create", "user:dewi")]
    assert "kata-sandi" not in log[0]["detail"] and json.loads(log[0]["detail"])["villages"] == [V1, V2]
    dewi = hq.register("dewi", password="kata-sandi-1")
    assert [r["id"] for r in dewi.pull_all(V1) if r["entity"] == "households"] == ["h1"]
    page = as_user(hq, "pusat").get("/pengguna/dewi").text
    assert 'data-action="user_create"' in page and dewi.device_id in page


def test_supervisor_created_with_a_regency(desk: tuple[Hq, dict[str, Any]]) -> None:
    hq, _info = desk
    form = {"username": "sari", "peran": "supervisor", "password": "kata-sandi-1", "password_again": "kata-sandi-1",
            "kabupaten": "33.02", "simpan": "1"}
    assert _admin_post(hq, "/pengguna/baru", form).status_code == 303
    with hq.ctx.db.read() as conn:
        assert conn.execute(select(t.users.c.role, t.users.c.regency).where(t.users.c.username == "sari")).one() == \
            ("supervisor", "33.02")


# Each row: what is changed in GOOD_OFFICER, the field whose message appears, and the message.
BAD_USERS: list[tuple[dict[str, Any], str, str]] = [
    ({"username": ""}, "username", "Nama pengguna 1–64 karakter"),
    ({"username": "Dewi"}, "username", "Nama pengguna 1–64 karakter"),
    ({"username": "dewi sari"}, "username", "Nama pengguna 1–64 karakter"),
    ({"username": "d" * 65}, "username", "Nama pengguna 1–64 karakter"),
    ({"username": "ofc"}, "username", "Nama pengguna ini sudah dipakai."),
    ({"peran": "hq"}, "role", "Pilih peran: petugas atau supervisor."),
    ({"peran": ""}, "role", "Pilih peran"),
    ({"password": "pendek", "password_again": "pendek"}, "password", "Kata sandi minimal 8 karakter."),
    ({"password_again": "kata-sandi-2"}, "password-again", "Kedua kata sandi tidak sama."),
    ({"desa": []}, "villages", "Pilih paling sedikit satu desa/kelurahan tugas."),
    ({"desa": ["32.01.01.9999"]}, "villages", "Bukan kode desa/kelurahan Kemendagri: 32.01.01.9999"),
    ({"desa": ["32.01"]}, "villages", "Bukan kode desa/kelurahan Kemendagri"),
    ({"desa": ["<script>"]}, "villages", "Bukan kode desa/kelurahan Kemendagri: &lt;script&gt;"),
    ({"peran": "supervisor", "desa": []}, "regency", "Pilih satu kabupaten/kota."),
    ({"peran": "supervisor", "kabupaten": "32.01.01"}, "regency", "Bukan kode kabupaten/kota Kemendagri"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_USERS)
def test_invalid_user_forms_say_why_and_store_nothing(desk: tuple[Hq, dict[str, Any]], change: dict[str, Any],
                                                      field: str, message: str) -> None:
    hq, _info = desk
    as_user(hq, "pusat")
    before = hq.snapshot()
    response = _admin_post(hq, "/pengguna/baru", {**GOOD_OFFICER, **change})
    assert response.status_code == 422, response.text[-800:]
    assert f'id="error-{field}"' in response.text and message in response.text
    assert "kata-sandi" not in without_tokens(response.text)  # a typed password is never written back into the page
    assert hq.snapshot() == before


def test_region_picker_moves_without_storing(desk: tuple[Hq, dict[str, Any]]) -> None:
    hq, _info = desk
    as_user(hq, "pusat")
    before = hq.snapshot()
    form = {**GOOD_OFFICER, "buka": "32.01.01", "desa": [V_OTHER]}
    del form["simpan"]
    response = _admin_post(hq, "/pengguna/baru", form)
    assert response.status_code == 200
    assert f'name="desa" value="{V1}"' in response.text  # Cibinong's villages to tick
    assert f'value="{V_OTHER}" checked' in response.text  # chosen elsewhere, kept
    assert 'value="dewi"' in response.text and 'id="retype-note"' in response.text
    assert hq.snapshot() == before


def test_password_reset_disable_enable_and_revoke(desk: tuple[Hq, dict[str, Any]]) -> None:
    hq, info = desk
    ofc = info["devices"]["ofc"]
    page = "/pengguna/ofc"
    assert _admin_post(hq, page + "/sandi", {"password": "baru-sekali-1", "password_again": "baru-sekali-1"},
                       page).status_code == 303
    assert hq.client.post("/v1/devices/register", json={"username": "ofc", "password": PASSWORD,
                                                         "device_name": "x"}).status_code == 401
    assert ofc.hello()  # the laptop keeps syncing after a routine reset
    assert _admin_post(hq, page + "/status", {"nonaktif": "1"}, page).status_code == 303
    assert hq.client.get("/v1/sync/hello", headers=ofc.headers).status_code == 401
    assert _admin_post(hq, page + "/status", {"nonaktif": "0"}, page).status_code == 303
    assert ofc.hello()
    assert _admin_post(hq, page + "/perangkat", {"device_id": ofc.device_id}, page).status_code == 303
    assert hq.client.get("/v1/sync/hello", headers=ofc.headers).status_code == 401
    before = hq.snapshot()
    again = _admin_post(hq, page + "/perangkat", {"device_id": ofc.device_id}, page)
    assert again.status_code == 422 and "Perangkat ini sudah dicabut." in again.text
    other = _admin_post(hq, page + "/perangkat", {"device_id": info["devices"]["ofc3"].device_id}, page)
    assert other.status_code == 404  # a device of another user, named on this user's page
    short = _admin_post(hq, page + "/sandi", {"password": "x", "password_again": "x"}, page)
    assert short.status_code == 422 and "Kata sandi minimal 8 karakter." in short.text
    assert hq.snapshot() == before
    with hq.ctx.db.read() as conn:
        actions = list(conn.execute(select(t.admin_log.c.action).order_by(t.admin_log.c.id)).scalars())
    assert actions == ["user_password", "user_disable", "user_enable", "device_revoke"]


def test_scope_change_and_its_checks(desk: tuple[Hq, dict[str, Any]]) -> None:
    hq, info = desk
    page = "/pengguna/ofc"
    as_user(hq, "pusat")
    before = hq.snapshot()
    bad = _admin_post(hq, page + "/wilayah", {"desa": [], "simpan": "1"}, page)
    assert bad.status_code == 422 and "Pilih paling sedikit satu desa/kelurahan tugas." in bad.text
    assert hq.snapshot() == before
    assert _admin_post(hq, page + "/wilayah", {"desa": [V2], "simpan": "1"}, page).status_code == 303
    ofc = info["devices"]["ofc"]
    assert hq.client.get("/v1/sync/pull", params={"scope": V1}, headers=ofc.headers).status_code == 403
    with hq.ctx.db.read() as conn:
        entry = conn.execute(select(t.admin_log)).mappings().one()
    assert json.loads(entry["detail"]) == {"after": {"villages": [V2]}, "before": {"villages": [V1]}}


def test_supervisors_cannot_post_to_user_administration(desk: tuple[Hq, dict[str, Any]]) -> None:
    hq, _info = desk
    client = as_user(hq, "sup")
    token = form_token(client, "/konflik")
    before = hq.snapshot()
    for path in ("/pengguna/baru", "/pengguna/ofc/sandi", "/pengguna/ofc/status", "/pengguna/ofc/perangkat",
                 "/pengguna/ofc/wilayah"):
        response = client.post(path, data={**GOOD_OFFICER, "csrf": token, "nonaktif": "1"}, follow_redirects=False)
        assert response.status_code == 403, path
    assert hq.snapshot() == before
