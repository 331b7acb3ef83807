"""The start-up switch and rollback of ``update_install`` on a folder, without processes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desmig_desktop.services import update_install as ui
from desmig_desktop.services.update_install import Install, InstallState, UpdateConfig


def make_version(root: Path, version: str) -> None:
    folder = root / "versions" / version
    folder.mkdir(parents=True)
    (folder / ui.executable_name()).write_text("#!/bin/sh\nexit 0\n")
    (folder / ui.executable_name()).chmod(0o755)


@pytest.fixture(autouse=True)
def not_launched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ui.LAUNCHED_ENV, raising=False)


def test_install_root_is_shared_by_the_first_bundle_and_the_versions_it_installed(tmp_path: Path) -> None:
    bundle = tmp_path / "desmig"
    assert ui.install_root(bundle / "desmig") == bundle.resolve()
    assert ui.install_root(bundle / "versions" / "0.2.0" / "desmig") == bundle.resolve()


def test_a_staged_newer_version_becomes_a_trial_and_an_unconfirmed_trial_rolls_back(tmp_path: Path,
                                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    make_version(tmp_path, "0.2.0")
    install = Install(tmp_path)
    install.save(InstallState(staged="0.2.0", refused=[]))
    calls: list[list[str]] = []

    def child_crashes(args: list[str], env: dict[str, str]) -> int:
        calls.append(args)
        assert env[ui.LAUNCHED_ENV] == "1"
        return 139

    monkeypatch.setattr(ui.subprocess, "call", child_crashes)
    config = UpdateConfig(tmp_path, "0.1.0", b"k" * 32)
    assert ui.launch(config, ["status"]) is None  # rolled back: this (old) process runs the command
    assert calls and calls[0][1:] == ["status"]
    state = install.state()
    assert install.current("?") == "0.1.0" and state.trial is None and state.refused == ["0.2.0"]
    assert ui.take_notice(config) == ("0.2.0", "0.1.0") and ui.take_notice(config) is None


def test_a_confirmed_trial_stays_and_older_versions_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for version in ("0.0.9", "0.2.0"):
        make_version(tmp_path, version)
    install = Install(tmp_path)
    install.save(InstallState(staged="0.2.0", refused=[]))
    install.set_current("0.1.0")

    def child_confirms(args: list[str], env: dict[str, str]) -> int:
        ui.confirm_started(UpdateConfig(tmp_path, "0.2.0", b"k" * 32))
        return 0

    monkeypatch.setattr(ui.subprocess, "call", child_confirms)
    assert ui.launch(UpdateConfig(tmp_path, "0.1.0", b"k" * 32), ["gui"]) == 0
    assert install.current("?") == "0.2.0" and install.state().trial is None
    assert sorted(p.name for p in install.versions.iterdir()) == ["0.2.0"]  # 0.1.0 is not in versions/ here


@pytest.mark.parametrize("staged", ["0.1.0", "0.0.5", "garbage", "0.3.0"])
def test_never_switches_to_an_older_refused_or_missing_version(tmp_path: Path, staged: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    install = Install(tmp_path)
    refused = ["0.3.0"]
    if staged in ("0.0.5", "0.3.0"):
        make_version(tmp_path, staged)
    install.save(InstallState(staged=staged, refused=refused))
    monkeypatch.setattr(ui.subprocess, "call", lambda *a, **k: pytest.fail("nothing to start"))
    assert ui.launch(UpdateConfig(tmp_path, "0.1.0", b"k" * 32), []) is None
    assert install.current("0.1.0") == "0.1.0" and install.state().staged is None


def test_a_damaged_state_file_or_current_pointer_runs_this_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ui.STATE_FILE).write_text("{not json")
    (tmp_path / ui.CURRENT_FILE).write_text("../../etc\n")
    monkeypatch.setattr(ui.subprocess, "call", lambda *a, **k: pytest.fail("nothing to start"))
    assert ui.launch(UpdateConfig(tmp_path, "0.1.0", b"k" * 32), []) is None


def test_the_child_of_a_launcher_does_not_decide_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_version(tmp_path, "0.2.0")
    Install(tmp_path).save(InstallState(trial={"version": "0.2.0", "previous": "0.1.0"}, refused=[]))
    monkeypatch.setenv(ui.LAUNCHED_ENV, "1")
    assert ui.launch(UpdateConfig(tmp_path, "0.2.0", b"k" * 32), []) is None
    assert Install(tmp_path).state().trial is not None  # still on trial: it confirms when it has started
    assert os.environ[ui.LAUNCHED_ENV] == "1"
