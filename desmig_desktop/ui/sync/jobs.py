"""The sync part's background jobs: plain functions ``job(db, report)`` for the task manager (no Qt here).

Each job runs on the task manager's worker with the connection it opened there, calls
``sync_service`` and *returns* what happened, failures included: a sync that cannot reach the
server is an ordinary outcome the status bar shows, not an error box (the periodic timer would
otherwise pop one up every few minutes). Only the task manager's ``report(done, total)`` carries
progress, and its return value (False once the app is closing) is the cancel flag.

Progress travels as ``(done, total)``: a push knows its total (> 0); a pull does not (``0``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from desmig_desktop.errors import KnownError
from desmig_desktop.services import sync_service
from desmig_desktop.services.handle import Database
from desmig_desktop.services.sync_service import CycleReport, LoginResult, Progress, SyncError

log = logging.getLogger(__name__)

Report = Callable[[int, int], bool]
CycleFn = Callable[..., CycleReport]  # sync_service.run_cycle or a stand-in (tests)
LoginFn = Callable[..., LoginResult]


@dataclass(frozen=True)
class CycleOutcome:
    """What one background cycle did: a report, or the error that stopped it (``report`` then
    holds what got done first, when known)."""

    report: CycleReport | None = None
    error: SyncError | None = None
    unexpected: BaseException | None = None  # a bug: logged with its traceback in the worker

    @property
    def ok(self) -> bool:
        return self.error is None and self.unexpected is None


@dataclass(frozen=True)
class LoginOutcome:
    result: LoginResult | None = None
    error: KnownError | None = None  # SyncError (kind AUTH/NETWORK/SERVER) or a bad server address


def cycle_job(run_cycle: CycleFn = sync_service.run_cycle) -> Callable[[Database, Report], CycleOutcome]:
    """One sync cycle; never raises (see module doc)."""

    def run(db: Database, report: Report) -> CycleOutcome:
        last = [0, 0]

        def progress(p: Progress) -> None:
            last[:] = [p.done, (p.total or 0) if p.phase == "push" else 0]
            report(last[0], last[1])

        def cancel() -> bool:
            return not report(last[0], last[1])  # re-reports the same figures; False once the app closes

        try:
            return CycleOutcome(report=run_cycle(db, progress=progress, cancel=cancel))
        except SyncError as exc:
            return CycleOutcome(report=exc.partial, error=exc)
        except Exception as exc:  # a bug: logged here once, shown once by the controller
            log.exception("sync cycle failed unexpectedly")
            return CycleOutcome(unexpected=exc)

    return run


def login_job(server_url: str, username: str, password: str, *,
              login: LoginFn = sync_service.login) -> Callable[[Database, Report], LoginOutcome]:
    """Register this laptop with the server; the password lives only in this closure."""

    def run(db: Database, report: Report) -> LoginOutcome:
        try:
            return LoginOutcome(result=login(db, server_url, username, password))
        except KnownError as exc:  # SyncError included
            return LoginOutcome(error=exc)

    return run


def logout_job(db: Database, report: Report) -> None:
    """Forget the token (and revoke it on the server, once ``sync_service.logout`` does)."""
    sync_service.logout(db)
