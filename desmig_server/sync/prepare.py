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
A worker exits when the server's end of its pipe closes, so a killed server leaves no orphans.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing
import pickle
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, SpawnContext
from typing import Any, NamedTuple

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


class Prepared(NamedTuple):
    """What the ordered path may take instead of computing it (see the module docstring).

    A named tuple, not a dataclass: the ordered path unpickles one per op, and a tuple's pickle
    reads back in under half the time (0.95 vs 2.1 µs per op measured on a 250-op chunk)."""

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


def _serve(conn: Connection, language: str) -> None:
    """A worker: answers one push at a time, chunk by chunk, each chunk as soon as it is done. It
    ends when the server closes its end — also when the server is killed (the pipe is closed then).

    A push comes as two messages (``Preparation``): ``(today, sources, first chunk)`` (``None``
    when the push has fewer chunks than workers), then the worker's other chunks. The first
    chunk is prepared before the second message is read, so the ordered path waits for one
    chunk's work, not for the whole push to be unpickled. The second message is read (as bytes,
    unpickled after) before the first answer is sent: the server sends it before it reads any
    answer, and the two ends must never both be sending (with both socket buffers full, each
    would wait for the other for ever)."""
    set_language(language)  # rejection reasons are catalog texts in the server's language
    while True:
        try:
            today, sources, first = conn.recv()
            answer = None if first is None else prepare_chunk(today, sources, first)
            rest = conn.recv_bytes()
            if answer is not None:
                conn.send(answer)
            for chunk in pickle.loads(rest):
                conn.send(prepare_chunk(today, sources, chunk))
        except (EOFError, OSError):
            return


class _Worker:
    """One worker process and the server's end of its pipe.

    No thread of the serving process stands between them: the request's thread sends a push's
    chunks itself and reads each answer when it needs it. (With ``ProcessPoolExecutor`` a
    helper thread had to take the GIL from the applying thread to pass on each task and each
    answer, and the worker mostly waited for it: the push took longer than without workers.)
    The socket buffers hold a few answers; beyond them the worker waits for the request's
    thread to read one, which keeps it one chunk ahead of the ordered path at least."""

    def __init__(self, context: ForkServerContext | SpawnContext, language: str) -> None:
        self.conn, child = context.Pipe(duplex=True)
        self.process = context.Process(target=_serve, args=(child, language), name="desmig-prepare", daemon=True)
        self.process.start()
        child.close()

    def stop(self) -> None:
        self.conn.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()


class PreparePool:
    """Worker processes for ``Preparation``: started by the first push large enough to use them;
    one push uses them at a time (a push that finds them busy prepares its ops inline)."""

    def __init__(self, processes: int, *, chunk: int = 250, min_ops: int = 400) -> None:
        self.processes, self.chunk, self.min_ops = processes, chunk, min_ops
        self._idle: list[_Worker] = []
        self._started = 0
        self._lock = threading.Lock()
        self._closed = False

    def take(self) -> list[_Worker]:
        """Every idle worker (started as needed), for one push; ``[]`` when another push has them."""
        with self._lock:
            if self._closed:
                return []
            context = _context()
            while self._started < self.processes:
                self._idle.append(_Worker(context, get_language()))
                self._started += 1
            taken, self._idle = self._idle, []
            return taken

    def give_back(self, workers: list[_Worker], broken: list[_Worker]) -> None:
        for worker in broken:
            worker.stop()
        with self._lock:
            self._started -= len(broken)  # replaced by the next push that takes the pool
            if self._closed:
                for worker in workers:
                    worker.stop()
                return
            self._idle.extend(workers)

    def pids(self) -> list[int]:
        """The idle workers' process ids (tests kill them)."""
        with self._lock:
            return [w.process.pid for w in self._idle if w.process.pid is not None]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()


def _context() -> ForkServerContext | SpawnContext:
    # Never "fork": the serving process has threads (a lock held by one of them at the fork
    # would stay held in the child). The fork server imports this module once for every worker.
    if "forkserver" in multiprocessing.get_all_start_methods():
        multiprocessing.set_forkserver_preload([__name__])
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


class Preparation:
    """The ``Prepared`` of each op of one push, by index: computed by the pool's workers, chunk by
    chunk (chunk ``n`` by worker ``n % workers``), or — without a pool (the caller passes none for
    a small push), or when a worker fails — on the ordered path as asked (the hash only; validation then happens inline
    in ``OpApplier``). ``close`` hands the workers back (after reading what they still send)."""

    def __init__(self, ops: Sequence[PushOp], today: dt.date, sources: Sources,
                 pool: PreparePool | None) -> None:
        self._ops, self._pool = ops, pool
        self._chunk = pool.chunk if pool else len(ops) or 1
        self._workers: list[_Worker] = []
        self._broken: list[_Worker] = []
        self._done: dict[int, list[Prepared]] = {}
        self._read = 0  # chunks read so far (in order)
        self._chunks = -(-len(ops) // self._chunk)
        if pool is None:
            return
        try:
            self._workers = pool.take()
        except Exception:
            log.warning("push workers could not start; preparing inline", exc_info=True)
            return
        if not self._workers:  # another push has them
            return
        size, workers = self._chunk, self._workers
        chunks = [[wire_tuple(op) for op in ops[i:i + size]] for i in range(0, len(ops), size)]
        try:  # two messages each (``_serve``); chunk n is worker n % len(workers)'s
            for k, worker in enumerate(workers):
                worker.conn.send((today, sources, chunks[k] if k < len(chunks) else None))
            for k, worker in enumerate(workers):
                worker.conn.send(chunks[k + len(workers)::len(workers)])
        except OSError:
            self._fail()

    def _fail(self) -> None:
        log.warning("a push worker failed; preparing inline")
        self._broken = self._workers
        self._workers = []

    def get(self, index: int) -> Prepared:
        n = index // self._chunk
        chunk = self._done.get(n)
        if chunk is None:
            while self._workers and self._read <= n:
                worker = self._workers[self._read % len(self._workers)]
                try:
                    self._done[self._read] = worker.conn.recv()
                except (EOFError, OSError):
                    self._fail()
                    break
                self._read += 1
            chunk = self._done.get(n)
            if chunk is None:  # no workers, or one failed: this op inline
                op = self._ops[index]
                return Prepared(op_hash(op.entity, op.id, op.kind.value, op.base_version, op.fields))
        return chunk[index - n * self._chunk]

    def close(self) -> None:
        """Read what the workers still send for this push (the push was refused or failed mid-way)
        and hand them back to the pool."""
        if self._pool is None or not (self._workers or self._broken):
            return
        workers = self._workers
        try:
            while workers and self._read < self._chunks:
                workers[self._read % len(workers)].conn.recv()
                self._read += 1
        except (EOFError, OSError):
            self._broken, workers = self._workers, []
        self._pool.give_back(workers, self._broken)
        self._workers, self._broken = [], []
