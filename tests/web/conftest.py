"""HQ databases for the dashboard tests: the hand-computed report fixture, or a larger demo set."""

from __future__ import annotations

import json
import os
import re
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DESMIG_HQ_ARGON2_FAST", "1")  # before any app is built; inherited by servers

from desmig_server.app import create_app
from tests.reports.fixture import V1, server_create_ops, server_delete_ops
from tests.server.conftest import make_sqlite_template
from tests.server.support import PASSWORD, Hq, make_op

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette suggests httpx2 for its TestClient
    from fastapi.testclient import TestClient

# Demo villages over four provinces (Jawa Barat, Jawa Tengah, Jawa Timur, Nusa Tenggara Barat).
DEMO_VILLAGES = ("32.01.01.1001", "32.01.01.1002", "32.01.02.2001", "33.02.01.2001", "35.07.01.2001",
                 "35.07.01.2002", "52.03.01.2001", "52.03.02.2001")


@pytest.fixture(scope="session")
def web_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sqlite_template(tmp_path_factory, "hq-web-template")


def _users(hq: Hq) -> None:
    hq.add_user("sup", "supervisor", regency="32.01")
    hq.add_user("ofc", "officer", villages=[V1])


@pytest.fixture(scope="module")
def fixture_db(web_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An HQ database holding ``tests.reports.fixture`` and users pusat (hq), sup, ofc."""
    path = tmp_path_factory.mktemp("hq-web") / "hq.db"
    shutil.copy(web_template, path)
    url = f"sqlite:///{path}"
    app = create_app(url)
    with TestClient(app) as client:
        hq = Hq(app.state.hq, client)
        boss = hq.user_device("pusat", "hq")
        boss.push_ok(*server_create_ops(boss))
        boss.push_ok(*server_delete_ops(boss))
        _users(hq)
    return url


@pytest.fixture(scope="module")
def demo_db(web_template: Path, template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An HQ database holding 160 demo households (made on a laptop store, pushed as its outbox)."""
    from desmig_desktop.services.demo import generate_demo
    from desmig_desktop.store.db import connect

    root = tmp_path_factory.mktemp("hq-web-demo")
    shutil.copy(template_db, root / "laptop.db")
    laptop = connect(root / "laptop.db")
    generate_demo(laptop, 160, villages=DEMO_VILLAGES, seed=2025)
    outbox = laptop.execute("SELECT entity, record_id, kind, base_version, fields FROM sync_outbox ORDER BY op_seq")
    ops = [make_op(seq, entity, rid, json.loads(fields), kind=kind, base=base)
           for seq, (entity, rid, kind, base, fields) in enumerate(outbox.fetchall(), start=1)]
    laptop.conn.close()
    shutil.copy(web_template, root / "hq.db")
    url = f"sqlite:///{root / 'hq.db'}"
    app = create_app(url)
    with TestClient(app) as client:
        hq = Hq(app.state.hq, client)
        boss = hq.user_device("pusat", "hq")
        for start in range(0, len(ops), 2000):
            results = boss.push(*ops[start:start + 2000])
            assert results.status_code == 200, results.text
            assert {r["status"] for r in results.json()["results"]} == {"ok"}
        _users(hq)
    return url


@pytest.fixture
def client(fixture_db: str) -> Iterator[Any]:
    app = create_app(fixture_db)
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def without_tokens(html: str) -> str:
    """The page as a reader sees it for absence checks: every CSRF token's value blanked.

    A token is random base64url, so a short id ("hx", "m8") that a page must not show can
    appear inside it by chance; checking absence on the raw page then fails now and then."""
    return re.sub(r'(name="csrf" value=")[^"]*(")', r"\1\2", html)


def login(client: Any, username: str, password: str = PASSWORD) -> Any:
    """Sign in through the form; returns the POST response (not followed)."""
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password, "csrf": csrf_of(page.text)},
                       follow_redirects=False)
