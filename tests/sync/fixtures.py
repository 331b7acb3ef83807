"""Fixtures shared by tests/sync, tests/e2e and tests/faults (imported by each one's conftest)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.sync.harness import Device, HqServer, build_hq_template
from tests.sync.invariants import InvariantChecker


@pytest.fixture(scope="session")
def hq_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hq-template") / "hq.db"
    build_hq_template(path)
    return path


@pytest.fixture(scope="module")
def hq_module(tmp_path_factory: pytest.TempPathFactory, hq_template: Path) -> Iterator[HqServer]:
    """One server process per test module (started once: ~1 s); ``hq_server`` wipes it per test."""
    root = tmp_path_factory.mktemp("hq")
    shutil.copy(hq_template, root / "hq.db")
    server = HqServer(root / "hq.db", root / "serve.log").start()
    yield server
    server.stop()


@pytest.fixture
def hq_server(hq_module: HqServer) -> HqServer:
    """A real ``desmig-hq serve`` process (the module's), wiped for this test."""
    if hq_module.proc is None or hq_module.proc.poll() is not None:
        hq_module.start()  # a test killed it
    hq_module.reset()
    return hq_module


@pytest.fixture
def own_hq(tmp_path: Path, hq_template: Path) -> Iterator[HqServer]:
    """A server this test may kill, restart or restore at will."""
    shutil.copy(hq_template, tmp_path / "hq.db")
    server = HqServer(tmp_path / "hq.db", tmp_path / "serve.log").start()
    yield server
    server.stop()


@pytest.fixture
def make_device(tmp_path: Path, template_db: Path) -> Iterator[Callable[[str], Device]]:
    made: list[Device] = []

    def make(name: str) -> Device:
        device = Device(tmp_path / name, name, template_db)
        made.append(device)
        return device

    yield make
    for device in made:
        device.close()
        device.session.close()
        shutil.rmtree(device.root, ignore_errors=True)  # ~20 MB each (the region table)


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A directory for device data dirs, removed after the test (each copy holds ~20 MB of regions)."""
    root = tmp_path / "scratch"
    root.mkdir()
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def checker(hq_server: HqServer) -> InvariantChecker:
    return InvariantChecker(hq_server.db_path)
