"""Helpers for the HQ server tests: a harness around one app, devices that push/pull, fixtures data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, text

from desmig_desktop.domain.ops import op_hash
from desmig_server.auth.users import add_user
from desmig_server.context import HqContext
from desmig_server.db import tables as t
from desmig_testing.serve import ServeProcess

PASSWORD = "rahasia-123"
# Real Kemendagri codes: two villages of Cibinong (Kab. Bogor, 32.01), one of Gunung Putri
# (same regency), one of Kab. Banyumas (33.02, another province).
V1 = "32.01.01.1001"
V2 = "32.01.01.1002"
V3 = "32.01.02.2001"
V_OTHER = "33.02.01.2001"
ROOT = Path(__file__).resolve().parents[2]
REGENCY = "32.01"
OTHER_REGENCY = "33.02"


def household(village: str = V1, **over: Any) -> dict[str, Any]:
    return {"village_code": village, "head_name": "Budi Santoso", "visited_on": "2024-05-01", "consent": True,
            **over}


def member(household_id: str, **over: Any) -> dict[str, Any]:
    return {"household_id": household_id, "name": "Siti Aminah", "sex": "P", "relationship": "anak",
            "migration_status": "pmi_aktif", **over}


def placement(member_id: str, **over: Any) -> dict[str, Any]:
    return {"member_id": member_id, "country": "MY", "job": "prt", **over}


def business(household_id: str, **over: Any) -> dict[str, Any]:
    return {"household_id": household_id, "name": "Warung Siti", "kbli_category": "G", "status": "aktif", **over}


# The programme's records (issue 15). Top-level ones carry their village (their scope); the
# others name their parent, and some a member or business of the same village.
def village_profile(village: str = V1, **over: Any) -> dict[str, Any]:
    return {"village_code": village, "joined_year": 2018, "status": "aktif", **over}


def service(village: str = V1, member_id: str | None = None, **over: Any) -> dict[str, Any]:
    person = {"member_id": member_id} if member_id else {"walk_in_name": "Rina Wati", "walk_in_sex": "P"}
    return {"village_code": village, "served_on": "2024-05-02", "service_type": "informasi", "status": "selesai",
            **person, **over}


def business_support(business_id: str, **over: Any) -> dict[str, Any]:
    return {"business_id": business_id, "support_type": "pelatihan", "received_on": "2024-05-03", **over}


def parenting_activity(village: str = V1, **over: Any) -> dict[str, Any]:
    return {"village_code": village, "held_on": "2024-05-04", "activity_type": "kelompok_belajar", **over}


def attendance(activity_id: str, member_id: str, **over: Any) -> dict[str, Any]:
    return {"activity_id": activity_id, "member_id": member_id, "role": "anak", **over}


def cooperative(village: str = V1, **over: Any) -> dict[str, Any]:
    return {"village_code": village, "name": "Koperasi Maju Bersama", "group_kind": "koperasi",
            "legal_status": "belum", "status": "aktif", **over}


def cooperative_member(cooperative_id: str, member_id: str, **over: Any) -> dict[str, Any]:
    return {"cooperative_id": cooperative_id, "member_id": member_id, "role": "anggota", **over}


def cooperative_business(cooperative_id: str, business_id: str, **over: Any) -> dict[str, Any]:
    return {"cooperative_id": cooperative_id, "business_id": business_id, **over}


def officer_activity(village: str = V1, **over: Any) -> dict[str, Any]:
    return {"village_code": village, "held_on": "2024-05-05", "activity_kind": "rapat_koordinasi",
            "partners": "dinaker,pemdes", "topic": "Rapat koordinasi", **over}


def programme_ops(dev: Device, village: str, member_id: str, business_id: str,
                  suffix: str = "") -> tuple[list[dict[str, Any]], dict[str, str]]:
    """One record of each programme entity in ``village`` (``member_id``, ``business_id``: records
    of that village), as ``dev``'s next ops; and the id of each by entity."""
    from desmig_desktop.domain.programme import village_profile_id

    ids = {"village_profiles": village_profile_id(village), "services": f"sv{suffix}",
           "business_supports": f"bs{suffix}", "parenting_activities": f"pa{suffix}",
           "parenting_attendance": f"at{suffix}", "cooperatives": f"co{suffix}", "cooperative_members": f"cm{suffix}",
           "cooperative_businesses": f"cb{suffix}", "officer_activities": f"oa{suffix}"}
    fields = {"village_profiles": village_profile(village), "services": service(village, member_id),
              "business_supports": business_support(business_id), "parenting_activities": parenting_activity(village),
              "parenting_attendance": attendance(ids["parenting_activities"], member_id),
              "cooperatives": cooperative(village),
              "cooperative_members": cooperative_member(ids["cooperatives"], member_id),
              "cooperative_businesses": cooperative_business(ids["cooperatives"], business_id),
              "officer_activities": officer_activity(village)}
    return [dev.op(entity, ids[entity], fields[entity]) for entity in ids], ids


def make_op(seq: int, entity: str, record_id: str, fields: dict[str, Any] | None = None, *, kind: str = "upsert",
            base: int = 0) -> dict[str, Any]:
    fields = dict(fields or {})
    return {"op_seq": seq, "entity": entity, "id": record_id, "kind": kind, "base_version": base,
            "fields": fields, "op_hash": op_hash(entity, record_id, kind, base, fields),
            "captured_at": "2024-05-01T08:00:00Z"}


@dataclass
class Device:
    """A registered device: allocates its own op_seq like a desktop outbox does."""

    client: Any  # TestClient or httpx.Client
    username: str
    device_id: str
    token: str
    next_seq: int = 1
    versions: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def op(self, entity: str, record_id: str, fields: dict[str, Any] | None = None, *, kind: str = "upsert",
           base: int | None = None) -> dict[str, Any]:
        """The next op of this device; ``base`` defaults to the version this device last saw."""
        if base is None:
            base = self.versions.get((entity, record_id), 0)
        op = make_op(self.next_seq, entity, record_id, fields, kind=kind, base=base)
        self.next_seq += 1
        return op

    def push(self, *ops: dict[str, Any], **extra: Any) -> httpx.Response:
        body = {"device_id": self.device_id, "app_schema": 1, "ops": list(ops), **extra}
        return self.client.post("/v1/sync/push", json=body, headers=self.headers)

    def push_ok(self, *ops: dict[str, Any]) -> list[dict[str, Any]]:
        """Push, assert 200, remember the versions acked, return the results."""
        response = self.push(*ops)
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["results"]
        for op, result in zip(ops, results):
            if result["version"]:
                self.versions[(op["entity"], op["id"])] = result["version"]
        return results

    def pull(self, scope: str, since: int = 0, limit: int | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"scope": scope, "since": since}
        if limit is not None:
            params["limit"] = limit
        response = self.client.get("/v1/sync/pull", params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        for rec in page["records"]:
            self.versions[(rec["entity"], rec["id"])] = rec["version"]
        return page

    def hello(self) -> dict[str, Any]:
        response = self.client.get("/v1/sync/hello", headers=self.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def pull_all(self, scope: str, since: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            page = self.pull(scope, since, limit)
            out.extend(page["records"])
            since = page["next"]
            if not page["more"]:
                return out


class Hq:
    """One server under test: its context (DB) and an HTTP client for it."""

    def __init__(self, ctx: HqContext, client: Any) -> None:
        self.ctx = ctx
        self.client = client

    def add_user(self, name: str, role: str, *, villages: list[str] | None = None, regency: str | None = None,
                 password: str = PASSWORD) -> None:
        with self.ctx.db.write() as conn:
            add_user(conn, self.ctx.passwords, self.ctx.settings, username=name, role=role, password=password,
                     villages=villages, regency=regency)

    def register(self, name: str, password: str = PASSWORD, device_name: str = "laptop") -> Device:
        response = self.client.post("/v1/devices/register",
                                    json={"username": name, "password": password, "device_name": device_name})
        assert response.status_code == 200, response.text
        body = response.json()
        return Device(self.client, name, body["device_id"], body["token"])

    def user_device(self, name: str, role: str, **scope: Any) -> Device:
        self.add_user(name, role, **scope)
        return self.register(name)

    def record(self, entity: str, record_id: str) -> Any:
        with self.ctx.db.read() as conn:
            return conn.execute(select(t.records).where(t.records.c.entity == entity,
                                                        t.records.c.id == record_id)).first()

    def data(self, entity: str, record_id: str) -> dict[str, Any]:
        row = self.record(entity, record_id)
        assert row is not None, (entity, record_id)
        return dict(json.loads(row.data))

    def conflicts(self) -> list[Any]:
        with self.ctx.db.read() as conn:
            return list(conn.execute(select(t.conflicts).order_by(t.conflicts.c.id)).mappings())

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every data table (plus the counter), for "nothing changed" checks.

        ``devices.last_seen`` is left out: it records contact, not data.
        """
        out: dict[str, list[tuple[Any, ...]]] = {}
        with self.ctx.db.read() as conn:
            for table in (*t.DATA_TABLES, t.seq_counter):
                rows = conn.execute(select(*[c for c in table.c if c.name != "last_seen"])).all()
                out[table.name] = sorted((tuple(r) for r in rows), key=repr)
        return out


def reset_data(conn: Any) -> None:
    """Empty every data table and the counter (reference data stays); ``conn`` is in a write transaction."""
    names = ", ".join(tb.name for tb in t.DATA_TABLES)
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for tb in t.DATA_TABLES:
            conn.execute(tb.delete())
    conn.execute(t.seq_counter.update().values(value=0))


@contextmanager
def serve(db_url: str, log_path: Path, log_level: str = "warning") -> Iterator[str]:
    """Run ``desmig-hq serve`` as a real process on a free 127.0.0.1 port; yield its base URL."""
    with ServeProcess(db_url, log_path, stop_wait=10, log_level=log_level) as server:
        yield server.url
