"""An import's hints name the interface's own way to export full NIKs (issue 20 §10).

The command line keeps saying ``--full-nik``; the app names its export option and no flag. Every
problem of a refused import reaches the caller (errors and warnings), as does a successful
import's list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from desmig_desktop.services.demo import generate_demo
from desmig_desktop.services.exchange import ImportFailed, export, import_file, mask_option_label


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx"])
@pytest.mark.parametrize("gui", [False, True])
def test_masked_numbers_are_explained_in_the_callers_terms(db: Any, tmp_path: Path, fmt: str, gui: bool) -> None:
    generate_demo(db, 3, villages=["32.01.05.2003"], seed=2)
    out = tmp_path / f"samar.{fmt}" if fmt != "csv" else tmp_path / "samar"
    export(db, fmt, out, mask=True)
    with pytest.raises(ImportFailed) as failed:
        import_file(db, out, gui=gui)
    masked = [e for e in failed.value.errors if e.column in ("nik", "kk_number")]
    assert masked and len(masked) == len(failed.value.errors)
    for error in masked:
        assert ("--full-nik" in error.message) is not gui
        assert (mask_option_label() in error.message) is gui


def test_a_refused_import_carries_its_warnings_and_a_successful_one_its_problems(db: Any, tmp_path: Path) -> None:
    generate_demo(db, 2, villages=["32.01.05.2003"], seed=4)
    out = tmp_path / "lengkap.xlsx"
    export(db, "xlsx", out, mask=False)
    wb = load_workbook(out)
    wb.create_sheet("Catatan").append(["catatan petugas"])
    wb.save(out)
    result = import_file(db, out)
    assert result["warnings"] == len(result["problems"]) >= 1 and all(p.warning for p in result["problems"])
    wb = load_workbook(out)
    wb["households"].cell(2, 2, "ZZ.99")  # a village code that does not exist
    wb.save(out)
    with pytest.raises(ImportFailed) as failed:
        import_file(db, out)
    assert failed.value.errors and any(w.source == "Catatan" for w in failed.value.warnings)
