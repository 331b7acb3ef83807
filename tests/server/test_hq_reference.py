"""Reference data endpoints: content, version and conditional GET."""

from __future__ import annotations

from .support import V1, Hq


def test_regions_by_parent_with_version_and_etag(hq_app: Hq) -> None:
    dev = hq_app.user_device("ofc", "officer", villages=[V1])
    provinces = hq_app.client.get("/v1/reference/regions", headers=dev.headers)
    assert provinces.status_code == 200
    body = provinces.json()
    assert len(body["items"]) == 38 and body["items"][0] == {
        "code": "11", "name": "Aceh", "level": 1, "parent_code": None, "kind": "provinsi"}
    assert provinces.headers["etag"] == f'"{body["version"]}"' and len(body["version"]) == 16
    villages = hq_app.client.get("/v1/reference/regions", params={"parent": "32.01.01"}, headers=dev.headers).json()
    assert V1 in {r["code"] for r in villages["items"]} and {r["level"] for r in villages["items"]} == {4}
    assert villages["version"] == body["version"]
    cached = hq_app.client.get("/v1/reference/regions", headers={**dev.headers, "If-None-Match": f'"{body["version"]}"'})
    assert cached.status_code == 304 and cached.content == b""


def test_countries_and_kbli(hq_app: Hq) -> None:
    dev = hq_app.user_device("ofc", "officer", villages=[V1])
    countries = hq_app.client.get("/v1/reference/countries", headers=dev.headers).json()
    malaysia = next(c for c in countries["items"] if c["code"] == "MY")
    assert malaysia["name_en"] == "Malaysia" and countries["version"]
    kbli = hq_app.client.get("/v1/reference/kbli", headers=dev.headers).json()
    assert [k["code"] for k in kbli["items"]] == [chr(c) for c in range(ord("A"), ord("U") + 1)]
    assert kbli["version"] != countries["version"]


def test_resolve_unknown_conflict_is_404(hq_app: Hq) -> None:
    boss = hq_app.user_device("pusat", "hq")
    response = hq_app.client.post("/v1/conflicts/12345/resolve", json={"action": "dismiss"}, headers=boss.headers)
    assert response.status_code == 404 and response.json()["error"] == "not_found"
