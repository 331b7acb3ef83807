"""The running ``desmig-hq serve`` logs one masked access line per request and never a traceback,
whatever identifiers the request carries (path, query, body, validation errors), logged in or not.

Also the masking filter alone, under every formatter the server uses (uvicorn's access and default
formatters, the stdlib's), for every shape of log call.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from uvicorn.logging import AccessFormatter, DefaultFormatter

from desmig_desktop.domain.privacy import MaskingFilter, MaskingFormatter, mask_identifiers
from desmig_server.cli import main
from tests.server.support import PASSWORD, V1, make_op, serve

NIK = "3201054512900001"
KK = "3201050101200001"
PHONE = "081234567890"
PHONE_INTL = "6281234567890"
SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")
PHONE_LIKE = re.compile(r"(?<!\d)(?:\+?62|0)8\d{7,11}(?!\d)")
TRACEBACK = re.compile(r"Traceback|Logging error|File \"")


def _requests(token: str, device_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, raw target, httpx kwargs): identifiers everywhere a client can put them."""
    auth = {"Authorization": f"Bearer {token}"}
    bad_member = make_op(1, "members", f"m-{NIK}", {"household_id": "missing", "nik": NIK, "phone": PHONE,
                                                    "name": "Siti", "sex": "P", "relationship": "anak",
                                                    "migration_status": "bukan"})
    return [
        ("GET", f"/?kode={NIK}", {}),                                        # no login: redirect
        ("GET", f"/login?next={PHONE}", {}),
        ("GET", f"/download/rekap.csv?kode={KK}", {}),
        ("GET", f"/static/{NIK}.css", {}),                                   # 404 with NIK in the path
        ("GET", f"/v1/records/members/{NIK}/history", {"headers": auth}),    # path, logged in
        ("GET", f"/v1/records/households/{PHONE_INTL}/history", {"headers": auth}),
        ("GET", f"/v1/sync/pull?scope={NIK}&since=0", {"headers": auth}),     # scope refused
        ("GET", f"/v1/sync/pull?scope={V1}&limit={NIK}", {"headers": auth}),  # validation error (bound)
        ("GET", f"/v1/sync/pull?scope={V1}&since={PHONE}x", {"headers": auth}),  # validation error (type)
        ("GET", f"/v1/reports?level=village&prefix={NIK}", {"headers": auth}),
        ("POST", "/v1/devices/register", {"json": {"username": NIK, "password": PHONE}}),  # 422 missing field
        ("POST", "/v1/devices/register?x=1", {"json": {"username": NIK, "password": PHONE, "device_name": KK}}),
        ("POST", "/v1/devices/register?x=2", {"content": f'{{"username": "{NIK}", "password": "{PHONE}'.encode(),
                                               "headers": {"Content-Type": "application/json"}}),  # malformed
        ("POST", "/login", {"data": {"username": NIK, "password": PHONE}}),  # web login, wrong
        ("POST", "/v1/sync/push", {"headers": auth, "json": {"device_id": device_id, "app_schema": 1,
                                                             "ops": [bad_member]}}),
        ("POST", "/v1/sync/push?x=1", {"headers": auth, "json": {"device_id": device_id, "app_schema": NIK,
                                                                 "ops": [{"nik": NIK}]}}),  # validation error
    ]


@pytest.mark.e2e
def test_access_log_is_one_masked_line_per_request_and_never_a_traceback(db_url: str, tmp_path: Path) -> None:
    assert main(["user", "add", "ani", "--role", "officer", "--villages", V1, "--password-stdin", "--db", db_url],
                stdin=io.StringIO(PASSWORD), stdout=io.StringIO()) == 0
    log_path = tmp_path / "server.log"
    with serve(db_url, log_path, log_level="info") as base, \
            httpx.Client(base_url=base, timeout=30, follow_redirects=False) as client:
        reg = client.post("/v1/devices/register", json={"username": "ani", "password": PASSWORD,
                                                        "device_name": "laptop"})
        assert reg.status_code == 200, reg.text
        table = _requests(reg.json()["token"], reg.json()["device_id"])
        statuses = {}
        for method, target, kwargs in table:
            response = client.request(method, target, **kwargs)
            assert response.status_code < 500, (target, response.text)
            statuses[target] = response.status_code
    text = log_path.read_text(encoding="utf-8", errors="replace")
    assert not TRACEBACK.search(text), text[:4000]
    assert not SIXTEEN_DIGITS.search(text), SIXTEEN_DIGITS.findall(text)
    assert not PHONE_LIKE.search(text), PHONE_LIKE.findall(text)
    for secret in (NIK, KK, PHONE, PHONE_INTL):
        assert secret not in text
    lines = text.splitlines()
    for method, target, _kwargs in table:
        request_line = f'"{method} {mask_identifiers(target)} HTTP/1.1" {statuses[target]}'
        assert sum(request_line in line for line in lines) == 1, (request_line, text[-3000:])


# --- the filter itself, under each formatter -------------------------------------------------------

class _Boom(Exception):
    pass


def _exc_info() -> Any:
    try:
        raise _Boom(f"bad member {NIK} phone {PHONE}")
    except _Boom:
        return sys.exc_info()


FORMATTERS = {
    "uvicorn-default": lambda: DefaultFormatter("%(levelprefix)s %(message)s", use_colors=False),
    "uvicorn-default-colour": lambda: DefaultFormatter("%(levelprefix)s %(message)s", use_colors=True),
    "stdlib-percent": lambda: logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"),
    "stdlib-brace": lambda: logging.Formatter("{levelname} {message}", style="{"),
    # the laptop's log file: its formatter masks the whole formatted text, with or without the filter
    "desktop-file": lambda: MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"),
}
RECORDS = {
    "str-args": ("saving %s with phone %s", (NIK, PHONE), None, {}),
    "int-arg": ("nik as a number %s", (int(NIK),), None, {}),
    "nested-args": ("row %s", ({"nik": NIK, "kk": [KK]},), None, {}),
    "dict-args": ("nik %(nik)s", ({"nik": NIK},), None, {}),
    "in-message": (f"careless {NIK} {PHONE}", (), None, {}),
    "exception": ("failed %s", ("x",), "exc", {}),
    "color-message": ("running %s", (NIK,), None, {"color_message": f"running {NIK} \x1b[1m%s\x1b[0m"}),
}


def _record(name: str, msg: str, args: Any, exc: Any, extra: dict[str, Any]) -> logging.LogRecord:
    record = logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, _exc_info() if exc else None)
    record.__dict__.update(extra)
    return record


@pytest.mark.parametrize("kind", list(RECORDS))
@pytest.mark.parametrize("formatter", [*FORMATTERS, "desktop-file-unfiltered"])
def test_filter_masks_every_record_shape_under_every_formatter(formatter: str, kind: str) -> None:
    record = _record("desmig", *RECORDS[kind])
    if formatter == "desktop-file-unfiltered":
        formatter = "desktop-file"  # the laptop's handler has no filter: its formatter alone masks
    else:
        assert MaskingFilter().filter(record)
    out = FORMATTERS[formatter]().format(record)  # must not raise
    assert not SIXTEEN_DIGITS.search(out) and not PHONE_LIKE.search(out), out
    assert "3201********0001" in out


@pytest.mark.parametrize("target", [f"/?kode={NIK}", f"/v1/records/members/{PHONE}/history",
                                    f"/x/{NIK}?p={PHONE_INTL}&q={KK}", "/plain"])
@pytest.mark.parametrize("colours", [False, True])
def test_uvicorn_access_formatter_gets_its_five_args_back_masked(target: str, colours: bool) -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", target, "1.1", 200), None)
    assert MaskingFilter().filter(record)
    assert isinstance(record.args, tuple) and len(record.args) == 5 and record.args[4] == 200
    out = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=colours).format(record)
    assert mask_identifiers(target) in out and "200 OK" in out
    assert not SIXTEEN_DIGITS.search(out) and not PHONE_LIKE.search(out)


def test_a_second_handler_sees_the_same_masked_record() -> None:
    record = _record("desmig", "nik %s", (NIK,), "exc", {})
    first, second = MaskingFilter(), MaskingFilter()
    assert first.filter(record) and second.filter(record)
    assert record.getMessage() == "nik 3201********0001"
    assert NIK not in json.dumps(record.exc_text)
