"""A command's standard output closed early (``desmig sync --json | head -c 10``) ends it quietly.

Shared by ``desmig`` and ``desmig-hq`` (stdlib only, so the server may import it). Without this,
the first ``print`` after the reader went away raised ``BrokenPipeError``: the desktop logged an
"unexpected error" with a traceback, and the interpreter's final flush printed "Exception ignored"
on stderr. The Python documentation's recipe is followed (signal module, "Note on SIGPIPE"):
catch the error at the entry point and point stdout at ``os.devnull`` so nothing more is tried.

Only a failed write to *stdout* counts: a ``BrokenPipeError`` from a socket or a child process is
a real error and is left to the command's own handling. Exit code 1 (the output is incomplete),
nothing on stderr (whoever closed the pipe wanted no more).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

log = logging.getLogger(__name__)
EXIT_OUTPUT_CLOSED = 1


class OutputClosed(Exception):
    """The reader of standard output went away; raised by a write or flush of the guarded stream."""


class _GuardedOutput:
    """``stream`` whose ``write``/``flush`` turn ``BrokenPipeError`` into ``OutputClosed``."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError as exc:
            raise OutputClosed() from exc

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError as exc:
            raise OutputClosed() from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def run_with_closable_stdout(run: Callable[[], int]) -> int:
    """Run a CLI entry point with ``sys.stdout`` guarded; return its exit code.

    If stdout's reader goes away (during the command or at the final flush), stdout is pointed at
    ``os.devnull`` — so the interpreter's own flush at exit cannot fail again — and the exit code
    is ``EXIT_OUTPUT_CLOSED``. Commands must let ``OutputClosed`` through their own handlers.
    """
    real = sys.stdout
    sys.stdout = _GuardedOutput(real)
    try:
        code = run()
        sys.stdout.flush()
        return code
    except OutputClosed:
        log.info("standard output closed by its reader; command stopped")
        _silence(real)
        return EXIT_OUTPUT_CLOSED
    finally:
        sys.stdout = real


def _silence(stream: TextIO) -> None:
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (a test's StringIO): nothing will flush it at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
