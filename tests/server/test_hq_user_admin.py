"""``desmig-hq user passwd|disable|enable``: effective on the next request of every device of the
user, on both backends; failures exit 1 with one line and change nothing; bad usage exits 2."""

from __future__ import annotations

import io
from typing import Any

import pytest

from desmig_server.cli import main

from .support import PASSWORD, V1, Device, Hq, household

NEW_PASSWORD = "ganti-sandi-456"


def run(*argv: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out)
    return code, out.getvalue()


def _calls(dev: Device) -> dict[str, Any]:
    """Every kind of request a device makes, with its status code."""
    client, headers = dev.client, dev.headers
    return {
        "hello": client.get("/v1/sync/hello", headers=headers).status_code,
        "pull": client.get("/v1/sync/pull", params={"scope": V1, "since": 0}, headers=headers).status_code,
        "push": dev.push(dev.op("households", f"h-{dev.device_id[:8]}-{dev.next_seq}", household())).status_code,
        "report": client.get("/v1/reports", headers=headers).status_code,
    }


@pytest.fixture
def officer_devices(hq_app: Hq) -> tuple[Device, Device, Device]:
    """Two laptops of officer ani and one of another officer, each having pushed once."""
    hq_app.add_user("ani", "officer", villages=[V1])
    hq_app.add_user("budi", "officer", villages=[V1])
    first, second = hq_app.register("ani", device_name="a"), hq_app.register("ani", device_name="b")
    other = hq_app.register("budi")
    for dev in (first, second, other):
        assert dev.push(dev.op("households", f"h-{dev.device_id[:8]}", household())).status_code == 200
        dev.next_seq = 2
    return first, second, other


def _seq_after_refusal(dev: Device) -> None:
    dev.next_seq -= 1  # the refused push stored nothing: its op_seq is still the next one


def test_disable_refuses_every_device_of_the_user_at_its_next_request_and_enable_lets_them_back(
        hq_app: Hq, db_url: str, officer_devices: tuple[Device, Device, Device]) -> None:
    first, second, other = officer_devices
    assert run("user", "disable", "ani", "--db", db_url) == (0, "user ani disabled\n")
    for dev in (first, second):
        before = hq_app.snapshot()
        assert set(_calls(dev).values()) == {401}
        _seq_after_refusal(dev)
        assert hq_app.snapshot() == before  # nothing stored
        assert dev.client.post("/v1/devices/rotate", headers=dev.headers).status_code == 401
    refused = hq_app.client.post("/v1/devices/register", json={"username": "ani", "password": PASSWORD,
                                                           "device_name": "c"})
    assert refused.status_code == 401 and refused.json()["detail"] == "account disabled"
    assert all(code == 200 for code in _calls(other).values())  # another user's device is untouched

    assert run("user", "enable", "ani", "--db", db_url) == (0, "user ani enabled\n")
    for dev in (first, second):  # same tokens, same op sequence: nothing lost while disabled
        assert all(code == 200 for code in _calls(dev).values())
        assert dev.hello()["last_op_seq"] == 2


def test_passwd_keeps_devices_unless_asked_to_revoke_them(hq_app: Hq, db_url: str,
                                                          officer_devices: tuple[Device, Device, Device]) -> None:
    first, second, other = officer_devices
    code, out = run("user", "passwd", "ani", "--password-stdin", "--db", db_url, stdin=NEW_PASSWORD + "\n")
    assert code == 0 and "its devices stay logged in" in out
    assert hq_app.client.post("/v1/devices/register", json={"username": "ani", "password": PASSWORD,
                                                        "device_name": "c"}).status_code == 401
    assert hq_app.register("ani", password=NEW_PASSWORD).hello()["scopes"] == [V1]
    for dev in (first, second):
        assert all(code == 200 for code in _calls(dev).values())

    code, out = run("user", "passwd", "ani", "--password-stdin", "--revoke-devices", "--db", db_url,
                    stdin=PASSWORD + "\n")
    assert code == 0 and "3 device(s) revoked" in out
    for dev in (first, second):
        assert set(_calls(dev).values()) == {401}
    assert all(code == 200 for code in _calls(other).values())
    assert hq_app.register("ani").hello()["scopes"] == [V1]  # a new device with the new password


@pytest.mark.parametrize(("argv", "stdin", "message"), [
    (["passwd", "nobody", "--password-stdin"], NEW_PASSWORD, "no user nobody"),
    (["disable", "nobody"], "", "no user nobody"),
    (["enable", "nobody"], "", "no user nobody"),
    (["passwd", "ani", "--password-stdin"], "short\n", "at least 8"),
    (["passwd", "ani", "--password-stdin"], "\n", "at least 8"),
])
def test_failures_exit_1_with_one_line_and_change_nothing(hq_app: Hq, db_url: str, capsys: pytest.CaptureFixture[str],
                                                          argv: list[str], stdin: str, message: str) -> None:
    hq_app.add_user("ani", "officer", villages=[V1])
    before = hq_app.snapshot()
    code, _ = run("user", *argv, "--db", db_url, stdin=stdin)
    err = capsys.readouterr().err
    assert code == 1 and message in err and err.count("\n") == 1 and err.startswith("desmig-hq: ")
    assert hq_app.snapshot() == before
    hq_app.register("ani")  # the old password still works


@pytest.mark.parametrize("argv", [
    ["user", "passwd", "ani"],  # --password-stdin missing
    ["user", "passwd", "--password-stdin"],  # name missing
    ["user", "disable"],
    ["user", "enable", "ani", "--revoke-devices"],
    ["user", "lock", "ani"],
])
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
