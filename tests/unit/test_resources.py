"""Checks on the shipped reference data in resources/ and its reader."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from desmig_desktop.domain.reference import (
    REGION_KINDS,
    RESOURCES_DIR,
    Region,
    is_kemendagri_code,
    iter_regions,
    load_countries,
    load_kbli_categories,
    region_level,
)


@pytest.fixture(scope="module")
def regions() -> list[Region]:
    return list(iter_regions())


def test_resources_dir_is_repo_resources() -> None:
    assert Path(__file__).resolve().parents[2] / "resources" == RESOURCES_DIR
    assert (RESOURCES_DIR / "LICENSES.md").is_file()


def test_resources_dir_in_a_frozen_bundle_is_at_its_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PyInstaller bundle (packaging/desmig.spec) puts resources/ at ``sys._MEIPASS``; i18n reads it from here."""
    from desmig_desktop.domain import i18n, reference

    monkeypatch.setattr("sys.frozen", True, raising=False)
    monkeypatch.setattr("sys._MEIPASS", str(tmp_path), raising=False)
    assert reference._resources_dir() == tmp_path / "resources"
    assert i18n._CATALOG_DIR == RESOURCES_DIR / "i18n"


def test_kepmendagri_2025_counts(regions: list[Region]) -> None:
    counts = Counter(r.level for r in regions)
    assert counts == {1: 38, 2: 514, 3: 7285, 4: 83762}


def test_codes_unique_sorted_and_well_formed(regions: list[Region]) -> None:
    codes = [r.code for r in regions]
    assert codes == sorted(codes)
    assert len(set(codes)) == len(codes)
    assert all(is_kemendagri_code(c) for c in codes)
    assert all(r.name and r.name == r.name.strip() and not r.name[0].islower() for r in regions)


def test_levels_match_code_shape(regions: list[Region]) -> None:
    assert all(r.level == region_level(r.code) == r.code.count(".") + 1 for r in regions)


def test_every_parent_exists(regions: list[Region]) -> None:
    by_code = {r.code: r for r in regions}
    for r in regions:
        if r.level == 1:
            assert r.parent_code is None, r
            continue
        parent = by_code.get(r.parent_code or "")
        assert parent is not None, r
        assert parent.level == r.level - 1
        assert r.code.startswith(parent.code + ".")


def test_kinds(regions: list[Region]) -> None:
    assert {r.kind for r in regions} == set(REGION_KINDS)
    for r in regions:
        if r.level == 1:
            assert r.kind == "provinsi"
        elif r.level == 2:
            kota = int(r.code[3:5]) >= 71
            assert r.kind == ("kota" if kota else "kabupaten"), r
            assert r.name.startswith("Kota " if kota else "Kabupaten "), r
        elif r.level == 3:
            assert r.kind == "kecamatan"
        else:
            expected = {"1": "kelurahan", "2": "desa", "3": "desa adat"}[r.code[9]]
            assert r.kind == expected, r


def test_known_regions(regions: list[Region]) -> None:
    by_code = {r.code: r for r in regions}
    assert by_code["32"].name == "Jawa Barat"
    assert by_code["32.01"] == Region("32.01", "Kabupaten Bogor", 2, "32", "kabupaten")
    assert by_code["32.76"].kind == "kota" and by_code["32.76"].name == "Kota Depok"
    assert by_code["11.01.01.2001"].name == "Keude Bakongan"
    assert sum(r.kind == "desa adat" for r in regions) == 14


@pytest.mark.parametrize(
    ("code", "level"), [("32", 1), ("32.01", 2), ("32.01.01", 3), ("32.01.01.2001", 4)]
)
def test_region_level(code: str, level: int) -> None:
    assert is_kemendagri_code(code)
    assert region_level(code) == level


@pytest.mark.parametrize(
    "code", ["", "3", "320", "3201", "32.1", "32.01.1", "32.01.01.201", "32.01.01.20011", "32-01", "32.01.",
             "32.01\n", "٣٢"]
)
def test_invalid_codes(code: str) -> None:
    assert not is_kemendagri_code(code)
    with pytest.raises(ValueError):
        region_level(code)


def test_iter_regions_custom_path(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("code,name,level,parent_code,kind\n11,Aceh,1,,provinsi\n", encoding="utf-8")
    assert list(iter_regions(path)) == [Region("11", "Aceh", 1, None, "provinsi")]


def test_countries() -> None:
    countries = load_countries()
    by_code = {c.code: c for c in countries}
    assert len(by_code) == len(countries) == 249
    assert [c.code for c in countries] == sorted(by_code)
    expected = {
        "HK": "Hong Kong", "TW": "Taiwan", "MY": "Malaysia", "SA": "Arab Saudi", "SG": "Singapura",
        "KR": "Korea Selatan", "JP": "Jepang", "AE": "Uni Emirat Arab", "QA": "Qatar", "KW": "Kuwait",
        "BN": "Brunei Darussalam", "US": "Amerika Serikat", "MO": "Makau", "ID": "Indonesia",
    }
    assert {code: by_code[code].name_id for code in expected} == expected
    assert by_code["TW"].name_en == "Taiwan" and by_code["KR"].name_en == "South Korea"
    assert all(len(c.code) == 2 and c.code.isupper() and c.name_id and c.name_en for c in countries)


def test_kbli_categories() -> None:
    categories = load_kbli_categories()
    assert [c.code for c in categories] == [chr(x) for x in range(ord("A"), ord("U") + 1)]
    assert len(categories) == 21
    assert categories[0].name_id == "Pertanian, Kehutanan dan Perikanan"
    assert categories[2].name_id == "Industri Pengolahan"
    assert categories[-1].name_en == "Activities of extraterritorial organizations and bodies"
    assert all(c.name_id and c.name_en for c in categories)
