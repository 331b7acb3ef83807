"""The background sync policy: periodic while healthy, full-jitter capped backoff after failures."""

from __future__ import annotations

import math
import random

import pytest

from desmig_desktop.sync.errors import ErrorKind
from desmig_desktop.sync.scheduler import BackoffPolicy, SyncScheduler


def test_full_jitter_stays_inside_the_capped_exponential_window() -> None:
    policy = BackoffPolicy(base_s=5, cap_s=300)
    rng = random.Random(7)
    for failures in range(1, 30):
        window = min(300.0, 5 * 2 ** (failures - 1))
        draws = [policy.failure_delay(failures, rng) for _ in range(200)]
        assert all(0 <= d <= window for d in draws)
        # Full jitter: spread over the whole window, not bunched at its top (equal jitter) or fixed.
        assert min(draws) < 0.2 * window and max(draws) > 0.8 * window


def test_runs_on_a_timer_without_any_edit() -> None:
    s = SyncScheduler(BackoffPolicy(interval_s=300), now=0)
    assert s.due(0)
    s.started(0), s.succeeded(10)
    assert not s.due(300) and s.due(310)  # nobody typed anything: it runs anyway


def test_edit_brings_a_healthy_run_closer_but_never_shortens_a_backoff() -> None:
    s = SyncScheduler(BackoffPolicy(interval_s=300, after_edit_s=20), rng=random.Random(1), now=0)
    s.started(0), s.succeeded(0)
    s.edited(5)
    assert s.next_at == 25
    s.started(25)
    delay = s.failed(ErrorKind.NETWORK, 30)
    s.edited(31)
    assert s.next_at == 30 + delay  # typing while offline does not hammer the server


@pytest.mark.parametrize("kind", [ErrorKind.AUTH, ErrorKind.TOO_OLD])
def test_errors_the_officer_must_fix_stop_the_timer_until_unblocked(kind: ErrorKind) -> None:
    s = SyncScheduler(now=0)
    s.started(0)
    assert s.failed(kind, 1) == math.inf
    assert s.blocked is kind and s.seconds_until_due(10**6) is None
    s.sync_now(5)
    assert not s.due(10**6)
    s.unblock(7)
    assert s.due(7) and s.failures == 0


def test_sync_now_overrides_a_backoff() -> None:
    s = SyncScheduler(rng=random.Random(3), now=0)
    s.started(0), s.failed(ErrorKind.SERVER, 0), s.started(1), s.failed(ErrorKind.SERVER, 1)
    s.sync_now(2)
    assert s.due(2)


def test_a_long_outage_does_not_become_a_retry_storm() -> None:
    """A day offline: attempts grow logarithmically then stay ~1 per cap/2, per laptop."""
    policy = BackoffPolicy(base_s=5, cap_s=900)
    s = SyncScheduler(policy, rng=random.Random(11), now=0)
    now, attempts = 0.0, 0
    while now < 86_400:
        wait = s.seconds_until_due(now)
        assert wait is not None
        now += wait
        s.started(now)
        attempts += 1
        s.failed(ErrorKind.NETWORK, now)
    assert attempts < 86_400 / (900 / 2) * 1.3 + 15  # ≈ 192 + the first ramp, not thousands


def test_a_fleet_coming_back_spreads_out() -> None:
    """200 laptops failing at the same instant do not retry in lockstep."""
    retries = []
    for n in range(200):
        s = SyncScheduler(BackoffPolicy(base_s=5), rng=random.Random(n), now=0)
        for _ in range(5):
            s.started(0), s.failed(ErrorKind.SERVER, 0)
        retries.append(s.next_at)
    buckets = {int(r // 10) for r in retries}
    assert len(buckets) >= 6 and max(retries) <= 80
