"""Issue 14 §4: the same NIK in households of different villages or officers, listed at HQ
(``find_duplicates``, ``desmig-hq duplicates``), on SQLite and PostgreSQL, within each role's scope;
and the identity rules the server applies to pushed ops."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from desmig_server.auth.principal import Principal
from desmig_server.checks.duplicates import duplicated_niks_query, find_duplicates, holders_query, scope_niks_query
from desmig_server.cli import main
from tests.web.conftest import login, without_tokens

from .conftest import open_hq
from .support import V1, V3, V_OTHER, Hq, household, member, placement

V2 = "32.01.01.1002"
# Structurally valid synthetic NIKs (province 32 or 33, real birth dates, serial ≠ 0000).
N_VILLAGES = "3201014101900001"  # V1 (ofc1) and V3 (ofc2): other village, other officer, same regency
N_REGENCIES = "3201010202850002"  # V2 (ofc1) and V_OTHER (ofc3): another regency
N_SAME = "3201010303800003"  # two households of V1, both by ofc1
N_ONCE = "3201010404750004"  # one holder only
N_DELETED = "3201010505700005"  # a second holder that was deleted
N_ONE_HOUSEHOLD = "3201010606650006"  # two members of one household (the laptop refuses it; one household)
ALL_NIKS = (N_VILLAGES, N_REGENCIES, N_SAME, N_ONCE, N_DELETED, N_ONE_HOUSEHOLD)

HQ = Principal("pusat", "hq", "web")
SUP = Principal("sup", "supervisor", "web", regency="32.01")
SUP_OTHER = Principal("sup2", "supervisor", "web", regency="33.02")
SUP_ELSEWHERE = Principal("sup3", "supervisor", "web", regency="35.07")


@pytest.fixture(scope="module")
def data_hq(module_db_url: str) -> Iterator[Hq]:
    """One database per backend for the whole module (building it is the slow part)."""
    for hq_app in open_hq(module_db_url):
        ofc1 = hq_app.user_device("ofc1", "officer", villages=[V1, V2])
        ofc2 = hq_app.user_device("ofc2", "officer", villages=[V3])
        ofc3 = hq_app.user_device("ofc3", "officer", villages=[V_OTHER])
        hq_app.add_user("pusat", "hq")
        hq_app.add_user("sup", "supervisor", regency="32.01")
        hq_app.add_user("sup2", "supervisor", regency="33.02")
        hq_app.add_user("sup3", "supervisor", regency="35.07")
        ofc1.push_ok(
            ofc1.op("households", "h1", household(V1)), ofc1.op("households", "h1b", household(V1)),
            ofc1.op("households", "h2", household(V2, head_name="Kepala Dua")),
            ofc1.op("members", "m1", member("h1", nik=N_VILLAGES, name="Ani Satu")),
            ofc1.op("members", "m2", member("h2", nik=N_REGENCIES)),
            ofc1.op("members", "m3", member("h1", nik=N_SAME)), ofc1.op("members", "m3b", member("h1b", nik=N_SAME)),
            ofc1.op("members", "m4", member("h1", nik=N_ONCE)),
            ofc1.op("members", "m5", member("h1", nik=N_DELETED)),
            ofc1.op("members", "m5b", member("h1b", nik=N_DELETED)),
            ofc1.op("members", "m6", member("h1b", nik=N_ONE_HOUSEHOLD)),
            ofc1.op("members", "m6b", member("h1b", nik=N_ONE_HOUSEHOLD)),
        )
        ofc1.push_ok(ofc1.op("members", "m5b", kind="delete"))
        ofc2.push_ok(ofc2.op("households", "h3", household(V3, head_name="Dewi Tiga")),
                     ofc2.op("members", "m7", member("h3", nik=N_VILLAGES, name="Ani Tiga")))
        ofc3.push_ok(ofc3.op("households", "hx", household(V_OTHER)),
                     ofc3.op("members", "m8", member("hx", nik=N_REGENCIES, name="Rahasia Lain")))
        yield hq_app


def masked(nik: str) -> str:
    return f"{nik[:4]}********{nik[-4:]}"


def test_hq_lists_every_nik_held_in_two_households(data_hq: Hq) -> None:
    page = find_duplicates(data_hq.ctx.db, HQ)
    assert page.total == 3 and [e["nik"] for e in page.entries] == [masked(n) for n in sorted(
        (N_VILLAGES, N_REGENCIES, N_SAME))]
    by_nik = {e["nik"]: e for e in page.entries}
    across = by_nik[masked(N_VILLAGES)]
    assert (across["households"], across["villages_differ"], across["officers_differ"]) == (2, True, True)
    assert [(h["village_code"], h["household_id"], h["member_id"], h["officer"], h["name"])
            for h in across["holders"]] == [(V1, "h1", "m1", "ofc1", "Ani Satu"), (V3, "h3", "m7", "ofc2", "Ani Tiga")]
    assert across["holders"][1]["head_name"] == "Dewi Tiga" and across["holders"][0]["village_name"]
    same = by_nik[masked(N_SAME)]
    assert (same["households"], same["villages_differ"], same["officers_differ"]) == (2, False, False)
    assert all(not h["outside_scope"] for e in page.entries for h in e["holders"])


def test_a_supervisor_sees_entries_touching_its_regency_and_nothing_of_the_other_side(data_hq: Hq) -> None:
    page = find_duplicates(data_hq.ctx.db, SUP)
    assert page.total == 3
    cross = next(e for e in page.entries if e["nik"] == masked(N_REGENCIES))
    inside, outside = cross["holders"]
    assert inside["village_code"] == V2 and outside == {"outside_scope": True}  # no village, name, id or officer
    other = find_duplicates(data_hq.ctx.db, SUP_OTHER)
    assert [e["nik"] for e in other.entries] == [masked(N_REGENCIES)]
    [theirs, ours] = sorted(other.entries[0]["holders"], key=lambda h: h["outside_scope"], reverse=True)
    assert theirs == {"outside_scope": True} and ours["village_code"] == V_OTHER
    text_seen = json.dumps(other.as_json())
    assert "h2" not in text_seen and "ofc1" not in text_seen and V2 not in text_seen
    nothing = find_duplicates(data_hq.ctx.db, SUP_ELSEWHERE)
    assert (nothing.total, nothing.entries) == (0, [])


def test_full_niks_only_when_asked_and_paging(data_hq: Hq) -> None:
    full = find_duplicates(data_hq.ctx.db, HQ, full_nik=True, limit=2)
    assert [e["nik"] for e in full.entries] == sorted((N_VILLAGES, N_REGENCIES, N_SAME))[:2]
    assert full.as_json()["more"] is True
    rest = find_duplicates(data_hq.ctx.db, HQ, full_nik=True, limit=2, offset=2)
    assert [e["nik"] for e in rest.entries] == sorted((N_VILLAGES, N_REGENCIES, N_SAME))[2:]
    assert rest.as_json()["more"] is False
    masked_text = json.dumps(find_duplicates(data_hq.ctx.db, HQ).as_json())
    assert not any(nik in masked_text for nik in ALL_NIKS)


def _many_members(db: Any, count: int) -> None:
    """``count`` live members (and as many households) over many villages, inserted directly."""
    from desmig_server.db import tables as t

    # one in fifty in Kabupaten Bogor (32.01, the supervisor's), the others in Kabupaten Tulungagung
    villages = ["32.01.01.1001" if n % 50 == 0 else "35.04.01.2001" for n in range(count)]
    rows = []
    for n in range(count):
        nik = f"3201{n % 97:02d}0101{n % 90 + 10:02d}{n % 9999 + 1:04d}"
        for entity, rid, parent, data in (("households", f"hh{n}", None, {"head_name": "Kepala"}),
                                          ("members", f"mm{n}", f"hh{n}", {"nik": nik, "name": "Anggota"})):
            rows.append({"entity": entity, "id": rid, "scope": villages[n], "prev_scope": None, "parent_id": parent,
                         "data": json.dumps(data), "fmeta": "{}", "version": len(rows) + 1, "deleted": False,
                         "server_seq": len(rows) + 1, "created_at": "2026-01-01", "updated_at": "2026-01-01"})
    with db.write() as conn:
        conn.execute(t.records.insert(), rows)
        if db.is_postgres:
            conn.execute(text("ANALYZE records"))  # PostgreSQL keeps statistics (autovacuum); SQLite has none


def test_lookups_by_nik_use_the_nik_index(db_url: str) -> None:
    """On SQLite without statistics and on PostgreSQL with them, the supervisor's list and the
    holders of a page look NIKs up in the NIK index instead of reading every member (PostgreSQL
    needs step 8's expression statistics for that: a partial index's own are ignored). HQ's list is
    about every member: one pass over them whatever the plan."""
    from desmig_server.db.engine import Database

    db = Database(db_url)
    try:
        _many_members(db, 5000)
        with db.read() as conn:
            dialect = conn.dialect.name
            mine = sorted(conn.execute(scope_niks_query(dialect, SUP)).scalars())
            assert len(mine) == 100  # the supervisor's members: one in fifty
            for query in (duplicated_niks_query(dialect, SUP, mine), holders_query(dialect, mine[:50])):
                sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
                if db.is_postgres:  # no planner settings: the expression statistics of step 8 decide
                    plan = " ".join(r[0] for r in conn.execute(text("EXPLAIN " + sql)))
                else:
                    plan = " ".join(r[-1] for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
                assert "ix_records_member_nik" in plan, plan
    finally:
        db.dispose()


# -- the web page ------------------------------------------------------------------------------------
@pytest.fixture
def browser(data_hq: Hq, module_db_url: str) -> Iterator[Any]:
    """A fresh client (own cookies) on the module's database."""
    from desmig_server.app import create_app

    from .conftest import TestClient

    with TestClient(create_app(module_db_url), base_url="http://testserver") as client:
        yield client


def signed_in(client: Any, username: str) -> Any:
    assert login(client, username).status_code == 303
    return client


def test_the_page_needs_a_dashboard_sign_in(browser: Any) -> None:
    response = browser.get("/duplikat", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert login(browser, "ofc1").status_code == 403  # officers use the laptop app, not the dashboard
    assert browser.get("/duplikat", follow_redirects=False).status_code == 303


def test_hq_page_lists_every_duplicate_masked(browser: Any) -> None:
    page = signed_in(browser, "pusat").get("/duplikat")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in page.headers["content-security-policy"] and "<script" not in page.text
    assert 'data-total="3"' in page.text and page.text.count('class="dup-group"') == 3
    for nik in (N_VILLAGES, N_REGENCIES, N_SAME):
        assert masked(nik) in page.text
    seen = without_tokens(page.text)
    assert not any(nik in seen for nik in ALL_NIKS)
    assert "Rahasia Lain" in seen and "Ani Tiga" in seen and "outside" not in seen
    assert 'data-villages-differ="1" data-officers-differ="1"' in page.text
    assert 'id="nav-duplicates" href="/duplikat"' in page.text


@pytest.mark.parametrize("username, groups, shown, hidden", [
    ("sup", 3, ["Ani Satu", "Ani Tiga", V2, "Kepala Dua"], ["Rahasia Lain", V_OTHER, "ofc3", "hx", "m8"]),
    ("sup2", 1, ["Rahasia Lain", V_OTHER], ["Siti Aminah", "Ani Satu", V2, V1, "ofc1", "Kepala Dua"]),
])
def test_a_supervisor_page_shows_its_side_only(browser: Any, monkeypatch: pytest.MonkeyPatch, username: str,
                                              groups: int, shown: list[str], hidden: list[str]) -> None:
    # The worst token chance can draw: the page's random CSRF token holds every hidden id
    # ("hx" once did, by chance). Absence is checked on the page without its tokens.
    from desmig_server.web import session

    real = session.form_csrf
    hostile = "".join(h for h in hidden if re.fullmatch(r"[\w-]+", h))
    monkeypatch.setattr(session, "form_csrf", lambda key, user: hostile + real(key, user))
    page = signed_in(browser, username).get("/duplikat")
    assert hostile and f'value="{hostile}' in page.text  # the control is live: the raw page holds them
    seen = without_tokens(page.text)
    assert page.status_code == 200 and seen.count('class="dup-group"') == groups
    assert "Rumah tangga di luar wilayah Anda" in seen
    for text_ in shown:
        assert text_ in seen, text_
    for text_ in hidden:
        assert text_ not in seen, text_
    assert not any(nik in seen for nik in ALL_NIKS)


def test_a_supervisor_of_another_regency_sees_nothing(browser: Any) -> None:
    page = signed_in(browser, "sup3").get("/duplikat")
    seen = without_tokens(page.text)
    assert page.status_code == 200 and 'id="no-duplicates"' in seen and 'class="dup-group"' not in seen
    assert not any(name in seen for name in ("Ani Satu", "Rahasia Lain", "Ani Tiga"))


@pytest.mark.parametrize("query", ["halaman=0", "halaman=2", "halaman=x", "halaman=-1", "halaman=%EF%BC%91"])
def test_bad_page_numbers_are_a_404_page(browser: Any, query: str) -> None:
    page = signed_in(browser, "pusat").get(f"/duplikat?{query}")
    assert page.status_code == 404 and "Nomor halaman tidak valid" in page.text


# -- the CLI -----------------------------------------------------------------------------------------
def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, out.getvalue()


def test_cli_duplicates_json(data_hq: Hq, module_db_url: str) -> None:
    code, out = run("duplicates", "--json", "--db", module_db_url)
    assert code == 0
    body = json.loads(out)
    assert body["total"] == 3 and len(body["duplicates"]) == 3 and body["more"] is False
    assert not any(nik in out for nik in ALL_NIKS)  # masked by default
    code, out = run("duplicates", "--json", "--full-nik", "--db", module_db_url)
    assert code == 0 and {e["nik"] for e in json.loads(out)["duplicates"]} == {N_VILLAGES, N_REGENCIES, N_SAME}
    code, out = run("duplicates", "--json", "--regency", "33.02", "--db", module_db_url)
    body = json.loads(out)
    assert code == 0 and body["total"] == 1 and {"outside_scope": True} in body["duplicates"][0]["holders"]
    code, out = run("duplicates", "--json", "--regency", "35.07", "--db", module_db_url)
    assert code == 0 and json.loads(out)["duplicates"] == []
    code, out = run("duplicates", "--db", module_db_url)
    assert code == 0 and out.endswith("3 of 3 duplicated NIK(s)\n") and "officers differ" in out


@pytest.mark.parametrize("regency", ["99.99", "32", "32.01.01", "x"])
def test_cli_duplicates_unknown_regency_exits_1(data_hq: Hq, module_db_url: str, regency: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert run("duplicates", "--regency", regency, "--db", module_db_url)[0] == 1
    err = capsys.readouterr().err
    assert err.startswith("desmig-hq: unknown regency") and err.count("\n") == 1


@pytest.mark.parametrize("argv", [["duplicates", "--limit", "0"], ["duplicates", "--offset", "-1"],
                                  ["duplicates", "--limit", "lots"], ["duplicates", "--frobnicate"]])
def test_cli_duplicates_bad_usage_exits_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


# -- the rules the server applies to pushed ops ---------------------------------------------------------
@pytest.mark.parametrize("entity, fields, field", [
    ("members", {"nik": "3201013002900001"}, "nik"),  # 30 February
    ("members", {"nik": "3201013104900001"}, "nik"),  # 31 April
    ("members", {"nik": "3201012902010001"}, "nik"),  # 29 February 2001 / 1901
    ("members", {"nik": "9901010101900001"}, "nik"),  # province 99
    ("members", {"nik": "1001010101900001"}, "nik"),  # province 10
    ("placements", {"country": "ID"}, "country"),
])
def test_the_server_rejects_impossible_identity_numbers_per_op(hq_app: Hq, entity: str, fields: dict[str, Any],
                                                              field: str) -> None:
    dev = hq_app.user_device("ofc", "officer", villages=[V1])
    base = [dev.op("households", "h1", household()), dev.op("members", "m1", member("h1", nik="3201010101900001"))]
    if entity == "members":
        bad = dev.op("members", "m2", member("h1", **fields))
    else:
        bad = dev.op("placements", "p1", placement("m1", **fields))
    after = dev.op("members", "m3", member("h1", name="Sesudahnya"))
    response = dev.push(*base, bad, after)
    assert response.status_code == 200
    statuses = [r["status"] for r in response.json()["results"]]
    assert statuses == ["ok", "ok", "rejected", "ok"]  # one bad record never blocks the queue
    reason = response.json()["results"][2]["reason"]
    assert reason.startswith(f"{field}:") and fields.get("nik", "#") not in reason


def test_the_server_accepts_29_february_of_a_leap_year_and_kk_warnings_are_not_refusals(hq_app: Hq) -> None:
    dev = hq_app.user_device("ofc", "officer", villages=[V1])
    dev.push_ok(dev.op("households", "h1", household(kk_number="3201013002200000")),  # soft only
                dev.op("members", "m1", member("h1", nik="3201016902000001")),  # a woman born 29 February 2000
                dev.op("members", "m2", member("h1", nik="3201012902040001")))  # a man born 29 February 2004
