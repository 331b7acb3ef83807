"""Issue 13 §7: a copied dashboard session cookie is dead after logout — server-side revocation,
on SQLite and PostgreSQL (the dashboard's own tests in ``tests/web`` run on SQLite only).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from desmig_server.web.session import SESSION_COOKIE

from .support import PASSWORD, Hq

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette suggests httpx2 for its TestClient
    from fastapi.testclient import TestClient


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html[:400]
    return found.group(1)


def _signed_in(hq_app: Hq, username: str) -> Any:
    client = TestClient(hq_app.client.app)
    signed = client.post("/login", data={"username": username, "password": PASSWORD,
                                         "csrf": _csrf(client.get("/login").text)}, follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/", signed.text
    return client


def test_a_copied_session_cookie_is_dead_after_logout(hq_app: Hq) -> None:
    hq_app.add_user("pusat", "hq")
    browser = _signed_in(hq_app, "pusat")
    thief = TestClient(hq_app.client.app)
    thief.cookies.set(SESSION_COOKIE, browser.cookies.get(SESSION_COOKIE))
    assert thief.get("/", follow_redirects=False).status_code == 200  # the copy works while signed in
    out = browser.post("/logout", data={"csrf": _csrf(browser.get("/").text)}, follow_redirects=False)
    assert out.status_code == 303
    again = _signed_in(hq_app, "pusat")  # a new session of the same user does not revive the old cookie
    assert again.get("/", follow_redirects=False).status_code == 200
    for path in ("/", "/?kode=32", "/download/rekap.csv", "/duplikat"):
        assert thief.get(path, follow_redirects=False).status_code == 303, path
