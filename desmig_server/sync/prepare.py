"""The part of a push that does not depend on the ops before it, done off the ordered path.

One device's ops are applied strictly in order, inside one transaction, on one core (``push``).
Much of the per-op work does not need that order (issue 21 §2): the op's hash, whether it carries
a value no record may hold (``storable``), and — for an op that creates a record, most ops of a
first push — its validation, which depends only on the op's own fields, its questionnaire
version and today's date. ``Preparation`` hands that work, a chunk of ops at a time, to worker
processes as soon as the request is parsed, while the ordered path applies the chunks already
prepared; ``push`` takes each op's ``Prepared`` in order, waiting only when a worker is behind.

What a worker computed is used only where it is exactly what the ordered path would compute:

* a new record (nothing stored under its id when the op's turn comes: ``OpApplier``), whose
  merged record is then the op's fields themselves;
* its validation looked villages up as existing (the worker has no database): the ordered path
  confirms each such village with its own lookup, and validates inline when one is unknown;
* soft rules (and so the parent record, which only they read) are not run, there as on the
  ordered path: the server keeps hard errors and values only (``validate(soft=False)``).

Anything else — an edit of a stored record, a revive, an unknown questionnaire version, a
broken pool — is validated inline, as before. Small pushes (a day's work) never start a worker.
A worker exits when its parent process does (a killed server leaves no orphans).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from typing import Any

from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.domain.i18n import get_language, set_language
from desmig_desktop.domain.issues import Issue
from desmig_desktop.domain.ops import op_hash
from desmig_desktop.domain.questionnaire import Questionnaire, bundled, from_document
from desmig_desktop.domain.validation import validate
from desmig_desktop.domain.wire import OpKind
from desmig_server.sync.models import PushOp
from desmig_server.sync.storable import unstorable

log = logging.getLogger(__name__)

# An op as a worker receives it: (entity, id, kind, base_version, fields, questionnaire_version).
WireTuple = tuple[str, str, str, int, dict[str, Any], int]
# A questionnaire version's source: (digest, document text); version 1 is bundled everywhere.
Sources = dict[int, tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the ordered path may take instead of computing it (see the module docstring)."""

    op_hash: str
    unstorable: bool | None = None  # None: not computed (the ordered path checks)
    # The op's fields validated as a new record under its version: values to store, hard errors,
    # and the village codes that validation took as existing. None: not computed.
    values: dict[str, Any] | None = None
    errors: tuple[Issue, ...] = ()
    villages: tuple[str, ...] = ()


def wire_tuple(op: PushOp) -> WireTuple:
    return (op.entity, op.id, op.kind.value, op.base_version, op.fields, op.questionnaire_version)


class _AssumedVillages:
    """A ``Lookup`` without a database: every village exists (each one asked is remembered, for
    the ordered path to confirm); the rest answers as the server's lookup does (soft rules only)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def village_exists(self, code: str) -> bool:
        self.asked.append(code)
        return True

    def village_assigned(self, code: str) -> bool:
        return True

    def district_exists(self, code: str) -> bool:
        return True

    def nik_holder(self, nik: str, exclude_member_id: str | None) -> tuple[str, str] | None:
        return None


_PARSED: dict[str, Questionnaire] = {}  # digest -> questionnaire, per worker process


def _questionnaire(version: int, sources: Sources) -> Questionnaire | None:
    if version == 1:
        return bundled()
    source = sources.get(version)
    if source is None:
        return None
    digest, text = source
    found = _PARSED.get(digest)
    if found is None:
        found = _PARSED.setdefault(digest, from_document(json.loads(text)))
    return found


def prepare_one(op: WireTuple, today: dt.date, sources: Sources) -> Prepared:
    """One op's order-free work (pure: the same on a worker and on the ordered path)."""
    entity, record_id, kind, base_version, fields, version = op
    digest = op_hash(entity, record_id, kind, base_version, fields)
    if kind == OpKind.DELETE.value:
        return Prepared(digest)
    if unstorable(fields):
        return Prepared(digest, True)
    questionnaire = _questionnaire(version, sources)
    if questionnaire is None or entity not in ENTITIES:
        return Prepared(digest, False)
    spec = questionnaire.entity(entity)
    if not spec.covers(fields):
        return Prepared(digest, False)
    derived = spec.derived_keys
    raw = {k: v for k, v in fields.items() if k not in derived} if derived else fields
    lookup = _AssumedVillages()
    result = validate(entity, raw, record_id=record_id, lookup=lookup, parent=None, today=today,
                      questionnaire=questionnaire, soft=False)  # the parent is read by soft rules only
    return Prepared(digest, False, result.values, tuple(result.errors), tuple(lookup.asked))


def prepare_chunk(today: dt.date, sources: Sources, ops: list[WireTuple]) -> list[Prepared]:
    """A worker's task: a chunk of consecutive ops."""
    return [prepare_one(op, today, sources) for op in ops]


def _worker_start(language: str) -> None:
    """In each worker: the server's language (rejection reasons are catalog texts), and an exit
    when the parent goes away (a server killed with SIGKILL never runs its pool's shutdown)."""
    set_language(language)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="desmig-prepare-parent", daemon=True).start()


class PreparePool:
    """Worker processes for ``Preparation``; started on the first push large enough to use them."""

    def __init__(self, processes: int, *, chunk: int = 250, min_ops: int = 400) -> None:
        self.processes, self.chunk, self.min_ops = processes, chunk, min_ops
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                # Never "fork": the serving process has threads (a lock held by one of them at the
                # fork would stay held in the child). The fork server imports this module once.
                context: BaseContext
                if "forkserver" in multiprocessing.get_all_start_methods():
                    context = multiprocessing.get_context("forkserver")
                    multiprocessing.set_forkserver_preload([__name__])
                else:
                    context = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(self.processes, mp_context=context, initializer=_worker_start,
                                                     initargs=(get_language(),))
            return self._executor

    def broken(self) -> None:
        """Forget a pool that failed (a worker killed); the next large push starts a new one."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


class Preparation:
    """The ``Prepared`` of each op of one push, by index: computed by the pool, chunk by chunk,
    or — without a pool, for a small push, or when the pool fails — on the ordered path as asked
    (the hash only; validation then happens inline in ``OpApplier``)."""

    def __init__(self, ops: Sequence[PushOp], today: dt.date, sources: Sources,
                 pool: PreparePool | None) -> None:
        self._ops, self._today, self._sources, self._pool = ops, today, sources, pool
        self._chunk = pool.chunk if pool else len(ops) or 1
        self._futures: list[Future[list[Prepared]]] | None = None
        self._done: dict[int, list[Prepared]] = {}
        if pool is not None and len(ops) >= pool.min_ops:
            try:
                executor = pool.executor()
                self._futures = [executor.submit(prepare_chunk, today, sources,
                                                 [wire_tuple(op) for op in ops[i:i + self._chunk]])
                                 for i in range(0, len(ops), self._chunk)]
            except Exception:
                log.warning("push preparation pool unavailable; preparing inline", exc_info=True)
                pool.broken()
                self._futures = None

    @property
    def parallel(self) -> bool:
        return self._futures is not None

    def get(self, index: int) -> Prepared:
        if self._futures is None:
            op = self._ops[index]
            return Prepared(op_hash(op.entity, op.id, op.kind.value, op.base_version, op.fields))
        n = index // self._chunk
        chunk = self._done.get(n)
        if chunk is None:
            try:
                chunk = self._futures[n].result()
            except Exception:
                log.warning("push preparation failed; preparing inline", exc_info=True)
                assert self._pool is not None
                self._pool.broken()
                self._futures = None
                return self.get(index)
            self._done[n] = chunk
        return chunk[index - n * self._chunk]

    def cancel(self) -> None:
        """Drop the chunks not yet needed (the push was refused)."""
        for future in self._futures or ():
            future.cancel()
