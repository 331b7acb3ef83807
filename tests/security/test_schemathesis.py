"""schemathesis against ``/openapi.json``: generated requests, authenticated as HQ and as an officer.

Every response must be no 5xx, carry a documented status code and content type, match the
declared schema, and have the security headers; and a schema-valid request must be accepted
(``positive_data_acceptance``: the document states the bounds the server enforces), except for
the few rules across fields that JSON Schema cannot state (``CROSS_FIELD_RULES``). Each operation gets its own example budget
(rich inputs get more; an operation without parameters has only a handful of distinct cases),
in positive (schema-valid) and negative (schema-violating) modes; the run prints how many cases
were sent and fails below ``MIN_CASES`` (on PostgreSQL, half the budget runs again). Hypothesis is
derandomised so CI runs are repeatable; ``DESMIG_FUZZ_RANDOM=1`` explores new examples.
"""

from __future__ import annotations

import json
import os
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from desmig_desktop.domain.reference import is_kemendagri_code
from desmig_desktop.domain.report_spec import LEVELS
from tests.server.conftest import open_hq
from tests.server.support import V1, V_OTHER, Hq, household, member

MIN_CASES = 1_000  # on SQLite; PostgreSQL runs PG_SHARE of the budget and of this minimum
PG_SHARE = 0.5
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, positive_data_acceptance]
# Examples per operation, per role and generation mode. Operations not listed get DEFAULT.
DEFAULT = 18
BUDGET = {
    ("POST", "/v1/sync/push"): 25,  # the slowest to generate (nested ops); most pushes stop at the hash check
    ("POST", "/v1/devices/register"): 30,
    ("GET", "/v1/sync/pull"): 30,
    ("GET", "/v1/records/{entity}/{record_id}/history"): 30,
    ("GET", "/v1/conflicts"): 25,
    ("POST", "/v1/conflicts/{conflict_id}/resolve"): 25,
    ("GET", "/v1/reports"): 25,
    ("POST", "/v1/devices/revoke"): 15,
    ("POST", "/v1/devices/rotate"): 10,
}
# Refusals of schema-valid requests for rules JSON Schema cannot state, because they relate one
# value to another: an op's hash over its other fields, op_seq increasing through the batch, a
# delete carrying no fields, a report prefix no deeper than its level, a report period's start
# not after its end. ``positive_data_acceptance``
# is waived for exactly these answers (operation, status, error code, what the detail names);
# every other refusal of valid data fails the run.
CROSS_FIELD_RULES = {
    ("POST", "/v1/sync/push"): {(400, "hash_mismatch", "op_seq"), (422, "invalid_request", "op_seq must increase"),
                                (422, "invalid_request", "a delete carries no fields")},
    ("GET", "/v1/reports"): {(422, "invalid_request", "from not after to")},
}
ROLES = ("hq", "officer")
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
FUZZ_PASSWORD = "fuzz-rahasia-123"


@dataclass
class Target:
    hq: Hq
    schema: Any
    tokens: dict[str, str]  # role -> bearer token
    usernames: dict[str, str]
    backend: str
    statuses: Counter[int] = field(default_factory=Counter)
    positive: Counter[int] = field(default_factory=Counter)  # of schema-valid requests only

    @property
    def scale(self) -> float:
        """Share of the budget: all of it on SQLite; half on PostgreSQL, which adds its own failure
        modes (types, NUL bytes, integer ranges) on the same code paths, to stay within CI time."""
        return 1.0 if self.backend == "sqlite" else PG_SHARE

    def fresh_token(self, role: str) -> str:
        """A new device of the role's user: for operations that would end the shared token (revoke)."""
        response = self.hq.client.post("/v1/devices/register", json={
            "username": self.usernames[role], "password": FUZZ_PASSWORD, "device_name": "fuzz"})
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        return token


@pytest.fixture(scope="module")
def target(module_db_url: str) -> Iterator[Target]:
    """A server with an HQ and an officer device and a little data (records, a conflict) to find."""
    for hq_app in open_hq(module_db_url):
        usernames = {"hq": "fuzz-pusat", "officer": "fuzz-petugas"}
        hq_app.add_user(usernames["hq"], "hq", password=FUZZ_PASSWORD)
        hq_app.add_user(usernames["officer"], "officer", villages=[V1], password=FUZZ_PASSWORD)
        boss = hq_app.register(usernames["hq"], password=FUZZ_PASSWORD)
        officer = hq_app.register(usernames["officer"], password=FUZZ_PASSWORD)
        other = hq_app.register(usernames["officer"], password=FUZZ_PASSWORD, device_name="second")
        [created] = officer.push_ok(officer.op("households", "h1", household(V1)))
        officer.push_ok(officer.op("members", "m1", member("h1", nik="3201014101900001")),
                        officer.op("households", "h1", {"head_name": "satu"}))
        other.push_ok(other.op("households", "h1", {"head_name": "dua"}, base=created["version"]))
        boss.push_ok(boss.op("households", "h2", household(V_OTHER)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            schema = schemathesis.openapi.from_asgi("/openapi.json", hq_app.client.app)
        backend = "sqlite" if module_db_url.startswith("sqlite") else "postgresql"
        yield Target(hq_app, schema, {"hq": boss.token, "officer": officer.token}, usernames, backend)


def _operations(schema: Any) -> list[Any]:
    ops = [result.ok() for result in schema.get_all_operations()]
    return [op for op in ops if op.path.startswith("/v1/")]  # the API; the web dashboard is not ours


def _cross_field_refusal(key: tuple[str, str], response: Any) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    detail = json.dumps(body.get("detail"))
    return any(response.status_code == status and body.get("error") == code and named in detail
               for status, code, named in CROSS_FIELD_RULES.get(key, ()))


def _too_deep(key: tuple[str, str], case: Any) -> bool:
    """A report whose (well-formed) prefix lies below its level: refused 422, a rule across two parameters."""
    query = case.query or {}
    prefix, level = str(query.get("prefix", "")), str(query.get("level", "province"))
    return key == ("GET", "/v1/reports") and is_kemendagri_code(prefix) and level in LEVELS and \
        len(prefix) > LEVELS[level]


def _fuzz(target: Target, operation: Any, role: str, mode: GenerationMode, examples: int) -> int:
    sent = 0
    key = (operation.method.upper(), operation.path)

    @settings(max_examples=examples, deadline=None, database=None,
              derandomize=os.environ.get("DESMIG_FUZZ_RANDOM") != "1",
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        nonlocal sent
        token = target.fresh_token(role) if key == ("POST", "/v1/devices/revoke") else target.tokens[role]
        headers = {"Authorization": f"Bearer {token}"}
        response = case.call(headers=headers)
        sent += 1
        target.statuses[response.status_code] += 1
        if mode is GenerationMode.POSITIVE:
            target.positive[response.status_code] += 1
        checks = CHECKS
        if mode is GenerationMode.POSITIVE and (_cross_field_refusal(key, response) or _too_deep(key, case)):
            checks = [c for c in CHECKS if c is not positive_data_acceptance]
        case.validate_response(response, checks=checks, headers=headers)
        assert response.headers.get("x-content-type-options") == ["nosniff"], case.as_curl_command()
        assert response.headers.get("referrer-policy") == ["no-referrer"], case.as_curl_command()

    run()
    return sent


def test_schemathesis_finds_no_server_error_or_schema_violation(target: Target,
                                                                run_summary: Callable[[str], None]) -> None:
    counts: Counter[str] = Counter()
    for operation in _operations(target.schema):
        examples = BUDGET.get((operation.method.upper(), operation.path), DEFAULT)
        for role in ROLES:
            for mode in MODES:
                counts[f"{operation.method.upper()} {operation.path}"] += _fuzz(
                    target, operation, role, mode, max(1, round(examples * target.scale)))
    total = sum(counts.values())
    for name, n in sorted(counts.items()):
        print(f"schemathesis[{target.backend}] {n:5d}  {name}")
    print(f"schemathesis[{target.backend}] {total:5d}  cases in total; statuses {sorted(target.statuses.items())}")
    assert total >= MIN_CASES * target.scale, counts
    # authentication worked: schema-valid requests reached the handlers, not just the bearer check
    assert target.positive[200] >= sum(target.positive.values()) // 4, target.positive
    run_summary(f"schemathesis[{target.backend}]: {total} generated cases, no 5xx, no schema violation "
                f"(statuses {dict(sorted(target.statuses.items()))})")
    # the shared tokens survived the run (rotation keeps the old token until the new one is used)
    for role in ROLES:
        assert target.hq.client.get("/v1/sync/hello", headers={
            "Authorization": f"Bearer {target.tokens[role]}"}).status_code == 200
