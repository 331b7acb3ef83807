"""Certificates are always verified; DESMIG_CA_BUNDLE names the CA of an HQ behind its own TLS proxy."""

from __future__ import annotations

from pathlib import Path

import pytest

from desmig_desktop.sync.client import CA_BUNDLE_ENV, make_session


def test_default_session_verifies_certificates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CA_BUNDLE_ENV, raising=False)
    assert make_session().verify is True


def test_custom_ca_bundle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n", encoding="ascii")
    monkeypatch.setenv(CA_BUNDLE_ENV, str(bundle))
    assert make_session().verify == str(bundle)
    monkeypatch.setenv(CA_BUNDLE_ENV, str(tmp_path / "missing.pem"))
    with pytest.raises(FileNotFoundError):
        make_session()


@pytest.mark.parametrize("url, ok", [("https://hq.kemnaker.example", True), ("http://127.0.0.1:8000", True),
                                     ("http://localhost:8000/", True), ("http://hq.kemnaker.example", False),
                                     ("ftp://hq", False), ("hq.example", False)])
def test_server_address_must_be_https_except_loopback(url: str, ok: bool) -> None:
    from desmig_desktop.errors import KnownError
    from desmig_desktop.services.sync_service import _normalise_url

    if ok:
        assert _normalise_url(url).startswith(("https://", "http://"))
    else:
        with pytest.raises(KnownError):
            _normalise_url(url)
