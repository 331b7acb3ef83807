"""What every window needs, handed down by the composition root (no globals)."""

from __future__ import annotations

from dataclasses import dataclass

from desmig_desktop.services.handle import Database
from desmig_desktop.services.paths import Paths
from desmig_desktop.services.update_install import UpdateConfig
from desmig_desktop.ui.taskman import TaskManager


@dataclass(frozen=True)
class AppContext:
    db: Database  # the GUI thread's store connection (quick reads and single-household saves)
    paths: Paths
    tasks: TaskManager
    training: bool = False  # ``desmig gui --training``: a training laptop, where demo data is offered freely
    updates: UpdateConfig | None = None  # how the app updates itself (None: no update prompt)
