"""Crash points of the sync engine, driven by environment variables and inert unless set.

* ``DESMIG_CRASH_AT=name[@n][,name2...]`` — at the named step (the n-th time it is reached,
  default the first), end the process the hard way: ``DESMIG_CRASH_MODE=exit`` (default,
  ``os._exit``), ``kill`` (SIGKILL to itself) or ``pause`` (write ``DESMIG_CRASH_FLAG`` and wait
  for the test to SIGKILL us). This is how the fault tests prove that a crash at every step of
  push and pull loses and duplicates nothing.

A crash point stays a switch of the real product, read from the environment: the fault tests
must kill *this* program, run as the officer runs it (``desmig sync`` in a subprocess), at each
step. The deliberately broken variants of the negative controls are another program, so they
are not switches here: the tests build them (``tests/support/broken_sync.py``) and hand them to
``SyncEngine``.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

CRASH_ENV = "DESMIG_CRASH_AT"
CRASH_MODE_ENV = "DESMIG_CRASH_MODE"
CRASH_FLAG_ENV = "DESMIG_CRASH_FLAG"
CRASH_EXIT_CODE = 86

# Every named step, in cycle order. "push.response" is "the server committed, the laptop has
# not acked yet"; the ``*.in_tx`` / ``pull.apply.*`` points sit inside a local transaction.
CRASH_POINTS: tuple[str, ...] = (
    "restore.reconcile.in_tx",
    "hello.done",
    "reenqueue.in_tx",
    "push.batch_taken",
    "push.response",
    "push.ack.in_tx",
    "push.acked",
    "pull.response",
    "pull.apply.dropped",
    "pull.apply.records",
    "pull.applied",
    "cycle.before_success",
)

_hits: Counter[str] = Counter()


def _targets() -> dict[str, int]:
    out: dict[str, int] = {}
    for item in os.environ.get(CRASH_ENV, "").split(","):
        item = item.strip()
        if item:
            name, _sep, nth = item.partition("@")
            out[name] = int(nth or 1)
    return out


def crash_point(name: str) -> None:
    """End the process here if the environment asks for it (see module doc)."""
    if CRASH_ENV not in os.environ:
        return
    targets = _targets()
    if name not in targets:
        return
    _hits[name] += 1
    if _hits[name] != targets[name]:
        return
    mode = os.environ.get(CRASH_MODE_ENV, "exit")
    sys.stderr.flush()
    if mode == "pause":
        flag = os.environ.get(CRASH_FLAG_ENV)
        if flag:
            Path(flag).write_text(name, encoding="utf-8")
        while True:  # the test SIGKILLs us now
            time.sleep(0.05)
    if mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(CRASH_EXIT_CODE)
