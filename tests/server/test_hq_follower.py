"""The serving process's aggregates follower waits for a burst of pushes to pause (bounded).

Its catch-up recomputes every changed village from all its records in a write transaction; run at
every interval during a long sync it redid the same villages again and again on the push's time.
Driven check by check here: the counter each check reads, and when it catches up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from desmig_server.aggregates import follower as f


class _Checks:
    """Stands in for the stop event: lets ``_run`` make ``len(counters)`` checks, then stops it."""

    def __init__(self, counters: list[int]) -> None:
        self.counters = list(counters)
        self.current = 0

    def wait(self, _timeout: float) -> bool:
        if not self.counters:
            return True
        self.current = self.counters.pop(0)
        return False


class _Db:
    @contextmanager
    def read(self) -> Iterator[None]:
        yield None


def _catch_ups(monkeypatch: pytest.MonkeyPatch, counters: list[int]) -> list[int]:
    """The checks (0-based) at which the follower caught up, given the counter at each check."""
    checks = _Checks(counters)
    done: list[int] = []
    made = len(counters)
    monkeypatch.setattr(f, "counter", lambda _conn: checks.current, raising=False)
    monkeypatch.setattr(f, "catch_up", lambda _db: done.append(made - len(checks.counters) - 1))
    follower = f.Follower(_Db(), 0.0)  # type: ignore[arg-type]  # only read() is used
    follower._stop = checks  # type: ignore[assignment]
    follower._run()
    return done


def test_a_burst_of_pushes_is_caught_up_once_after_it_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    # pushes commit during checks 0-4 (the counter moves), then nothing for three checks: the first
    # quiet check catches up (the later ones find nothing behind: ``catch_up`` returns at once)
    assert _catch_ups(monkeypatch, [10, 20, 30, 40, 50, 50, 50, 50]) == [5, 6, 7]


def test_no_change_means_no_deferral(monkeypatch: pytest.MonkeyPatch) -> None:
    # the first check has nothing to compare with: it waits one interval, then catches up every check
    assert _catch_ups(monkeypatch, [7, 7, 7]) == [1, 2]


@settings(max_examples=200, deadline=None)
@given(hs.lists(hs.booleans(), min_size=1, max_size=40))
def test_steady_pushing_still_catches_up_every_few_intervals(moves: list[bool]) -> None:
    """Whatever the pattern of pushes, no more than ``MAX_DEFER_INTERVALS`` checks in a row pass
    without a catch-up, and a check after a quiet interval always catches up."""
    counters, value = [], 0
    for moved in moves:
        value += moved
        counters.append(value)
    with pytest.MonkeyPatch.context() as mp:
        done = _catch_ups(mp, counters)
    last = -1
    for check in range(len(counters)):
        quiet = check > 0 and counters[check] == counters[check - 1]
        if quiet or check - last > f.MAX_DEFER_INTERVALS:
            assert check in done, (check, done)
        if check in done:
            last = check
    assert all(b - a <= f.MAX_DEFER_INTERVALS + 1 for a, b in zip([-1, *done], done))


def test_the_serving_default_waits_at_most_a_minute() -> None:
    from desmig_server.settings import Settings

    assert Settings().aggregates_follow_s * f.MAX_DEFER_INTERVALS <= 60
