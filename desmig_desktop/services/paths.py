"""Where the app keeps its files: ``--data-dir``, else ``DESMIG_HOME``, else the platform's user dir."""

from __future__ import annotations

import logging
import logging.handlers
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from desmig_desktop.services.privacy import MaskingFormatter


def data_home() -> Path:
    """The data home: ``DESMIG_HOME``, else the platform's user data folder (also the "default" profile)."""
    chosen = os.environ.get("DESMIG_HOME") or platformdirs.user_data_dir("desmig", "kemnaker")
    return Path(chosen).expanduser().resolve()


@dataclass(frozen=True)
class Paths:
    root: Path

    @classmethod
    def resolve(cls, data_dir: str | os.PathLike[str] | None = None) -> Paths:
        return cls(Path(data_dir).expanduser().resolve() if data_dir else data_home())

    @property
    def database(self) -> Path:
        return self.root / "desmig.db"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def ensure(self) -> Paths:
        for path in (self.root, self.logs):
            path.mkdir(parents=True, exist_ok=True)
        return self


def setup_logging(paths: Paths, level: int = logging.INFO) -> None:
    """A rotating log file under the data dir; personal identifiers are masked by the formatter."""
    handler = logging.handlers.RotatingFileHandler(paths.logs / "desmig.log", maxBytes=2_000_000,
                                                   backupCount=5, encoding="utf-8")
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for previous in [h for h in root.handlers if isinstance(h, logging.handlers.RotatingFileHandler)]:
        root.removeHandler(previous)  # another profile's log (the shell switches profiles in-process)
        previous.close()
    root.addHandler(handler)
    root.setLevel(level)
