"""The officer's app bundle (``dist/desmig``, ``make bundle``): its size and its start, cold and warm.

Each start of the bundled executable is set beside the same start of the same app from the venv
(``python packaging/desmig_entry.py …``, the bundle's own entry script), in the same run, on the
same encrypted database (demo households made by the bundle):

* ``status --json``: process start to exit (interpreter, imports, SQLCipher key derivation, query);
* ``gui --smoke-exit`` (offscreen): process start until the household list has painted (the
  hook prints ``list painted`` then; see ``desmig_desktop.ui.shell``).

"Cold" is the first start after the page cache was emptied: ``echo 3 > /proc/sys/vm/drop_caches``
when this process may write it (root, not in a read-only /proc), else each file of both apps
(bundle folder; venv, Python's standard library, the sources) is evicted with
``posix_fadvise(DONTNEED)``. Either way pages that a running process has mapped stay in memory, so
on a shared machine the venv's libraries (also used by other processes) may start warmer than the
bundle's own copies. The row notes say which method ran. "Warm" is the median of the next starts.
The size's baseline is PySide6 as pip installs it in the venv (every Qt module), the bulk of what
the bundle carries. Skipped, with a line saying so, when no bundle is built.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import Row, show

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "dist" / "desmig"
EXE = BUNDLE / ("desmig.exe" if sys.platform == "win32" else "desmig")
PASSPHRASE = "kata-sandi-bench-bundle"  # synthetic
Command = list[str]


def tree_mb(path: Path) -> tuple[float, int]:
    """Total size (MB) and number of files under ``path``."""
    files = [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files) / 1e6, len(files)


def _evict_files(roots: list[Path]) -> None:
    for root in roots:
        for path in (root.rglob("*") if root.is_dir() else [root]):
            try:
                if path.is_file():
                    fd = os.open(path, os.O_RDONLY)
                    try:
                        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                    finally:
                        os.close(fd)
            except OSError:
                continue


def make_cold(roots: list[Path]) -> str:
    """Empty the page cache of the apps' files; returns the method used (for the notes)."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("3\n")
        return "drop_caches"
    except OSError:
        if not hasattr(os, "posix_fadvise"):
            return "none (first run only)"
        _evict_files(roots)
        return "posix_fadvise(DONTNEED) per file (drop_caches not permitted)"


def _env(home: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(home), "QT_QPA_PLATFORM": "offscreen", "DESMIG_PASSPHRASE": PASSPHRASE,
            "QT_LOGGING_RULES": "*.debug=false", **extra}


def _start_ms(cmd: Command, env: dict[str, str], until: str | None = None, timeout: float = 300) -> float:
    """Milliseconds from spawning ``cmd`` to its exit, or to the first stdout line holding ``until``."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    seen = None
    try:
        assert proc.stdout is not None
        if until is not None:
            for line in proc.stdout:
                if until in line:
                    seen = (time.perf_counter() - started) * 1000
                    break
        _out, err = proc.communicate(timeout=timeout)
    except BaseException:
        proc.kill()
        raise
    if proc.returncode != 0 or (until is not None and seen is None):
        raise RuntimeError(f"{' '.join(cmd[:3])}… exited {proc.returncode}: {err[-2000:]}")
    return seen if seen is not None else (time.perf_counter() - started) * 1000


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _prepare(work: Path, households: int) -> Path:
    """A data dir with an encrypted database holding demo households and an officer's settings."""
    from desmig_desktop.services.database import open_local
    from desmig_desktop.services.paths import Paths
    from desmig_desktop.store import settings

    data = work / "data"
    subprocess.run([str(EXE), "--data-dir", str(data), "demo", "--households", str(households)],
                   env=_env(work), check=True, capture_output=True, timeout=600)
    db = open_local(Paths.resolve(data), PASSPHRASE)
    try:
        settings.put(db, "officer_name", "Petugas Bench")  # past the first-run wizard
    finally:
        db.conn.close()
    return data


def run(households: int = 200, repeat: int = 5) -> list[Row]:
    if not EXE.is_file():
        print(f"no bundle at {EXE}: build it with `make bundle`; bundle rows skipped", flush=True)
        return []
    size, files = tree_mb(BUNDLE)
    import PySide6

    qt_size, _ = tree_mb(Path(PySide6.__file__).parent)
    rows = [Row("officer's app bundle size (dist/desmig)", size, "MB", qt_size, "info", None,
                baseline_name="PySide6 as pip installs it in the venv",
                note=f"{files} files, one folder; Python, Qt, SQLCipher, resources included")]
    show(rows[0])
    with tempfile.TemporaryDirectory(prefix="desmig-bench-bundle-") as tmp:
        work = Path(tmp)
        data = _prepare(work, households)
        env_bundle = _env(work)
        env_venv = _env(work, PYTHONPATH=str(ROOT))
        bundle_cmd: Command = [str(EXE), "--data-dir", str(data)]
        venv_cmd: Command = [sys.executable, str(ROOT / "packaging" / "desmig_entry.py"), "--data-dir", str(data)]
        roots = [BUNDLE, Path(sys.prefix), Path(sysconfig.get_paths()["stdlib"]), ROOT / "desmig_desktop",
                 ROOT / "resources", Path(sys.executable).resolve()]
        for label, args, until in (("status --json", ["status", "--json"], None),
                                   ("to painted household list (offscreen GUI)", ["gui", "--smoke-exit"],
                                    "list painted")):
            def start(cmd: Command, env: dict[str, str], args: Command = args,
                      until: str | None = until) -> Callable[[], float]:
                return lambda: _start_ms([*cmd, *args], env, until)

            bundle, venv = start(bundle_cmd, env_bundle), start(venv_cmd, env_venv)
            cold_b: list[float] = []
            cold_v: list[float] = []
            method = ""
            for _ in range(repeat):  # alternate, so neither side always runs second
                method = make_cold(roots)
                cold_b.append(bundle())
                method = make_cold(roots)
                cold_v.append(venv())
            warm_b = [bundle() for _ in range(repeat)]
            warm_v = [venv() for _ in range(repeat)]
            for kind, b, v, note in (
                    ("cold", cold_b, cold_v, f"first start after emptying the page cache: {method}"),
                    ("warm", warm_b, warm_v, "starts right after another start")):
                row = Row(f"bundle {kind} start: {label}", _median(b), "ms median", _median(v), "info", None,
                          baseline_name=f"same app from the venv, {kind}",
                          note=f"{repeat} starts each, {households} households, SQLCipher; {note}")
                show(row)
                rows.append(row)
    return rows
