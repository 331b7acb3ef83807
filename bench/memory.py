"""Memory: push, pull and export stream, so their peak RSS must not grow with the data.

Each is measured in its own child process (``bench.worker`` for push and pull, the real
``desmig export`` command for export) at a tenth of the size and at full size; the ratio of
the two peaks is compared with the ratio of the data sizes.
"""

from __future__ import annotations

from pathlib import Path

from bench.common import Row, show
from bench.encrypted import encrypt
from bench.sync import SyncResult, fresh_device, push_pull, run_child

MAX_RATIO = 2.0  # 10× the data may cost at most 2× the memory (proportional would be 10×)


def export(data_dir: Path, passphrase: str | None = None) -> tuple[float, float]:
    """``desmig export --format jsonl`` of a data dir in a child process: (seconds, peak RSS MB)."""
    out = data_dir / "export.jsonl"
    try:
        result = run_child(["export", str(data_dir), str(out)], passphrase=passphrase)
    finally:
        out.unlink(missing_ok=True)
    return result.seconds, result.rss_mb


def run(work: Path, small_db: Path, small: int, large_db: Path, large: int, large_result: SyncResult | None, *,
        hq_template: Path, local_tpl: Path, passphrase: str | None = None) -> list[Row]:
    """``small_db``/``large_db``: pristine demo DBs; the full-size push and pull are those of the
    sync group (``large_result``, run with the same ``passphrase``) when it ran, else measured
    here on a copy of ``large_db``. ``passphrase``: every device DB is encrypted with it."""
    def device(source: Path, folder: Path) -> Path:
        db = fresh_device(source, folder)
        return encrypt(db, passphrase) if passphrase else db

    small_device = device(small_db, work / "small-device")
    small_result = push_pull(work / "small", small_device, hq_template=hq_template, local_tpl=local_tpl,
                             label=f"{small:,} households", baselines=False, cycles=False, passphrase=passphrase)
    if large_result is None:
        large_device = device(large_db, work / "large-device")
        large_result = push_pull(work / "large", large_device, hq_template=hq_template, local_tpl=local_tpl,
                                 label=f"{large:,} households", baselines=False, cycles=False, passphrase=passphrase)
    export_small = export(small_result.pulled_device.parent, passphrase)
    export_large = export(large_result.pulled_device.parent, passphrase)
    growth = large / small
    rows = []
    for what, big, little, extra in (
            ("push", large_result.push.rss_mb, small_result.push.rss_mb,
             f"{large_result.push.records} vs {small_result.push.records} ops"),
            ("pull", large_result.pull.rss_mb, small_result.pull.rss_mb,
             f"{large_result.pull.records} vs {small_result.pull.records} records"),
            ("export (jsonl)", export_large[1], export_small[1],
             f"{export_large[0]:.1f} s vs {export_small[0]:.1f} s")):
        row = Row(f"peak RSS of {what}: {large:,} vs {small:,} households", big, "MB", little,
                  f"not proportional: < {MAX_RATIO:g}× for {growth:g}× the data", big / little < MAX_RATIO,
                  baseline_name=f"same at {small:,} households", note=extra)
        show(row)
        rows.append(row)
    return rows
