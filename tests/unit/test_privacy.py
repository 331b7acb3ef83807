"""The log formatter masks identifiers whatever the caller passes."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

from desmig_desktop.services.paths import Paths, setup_logging
from desmig_desktop.services.privacy import mask_identifiers


def test_mask_identifiers() -> None:
    text = "nik=3201054512900001 kk 3201050101200001 hp 081234567890 +6281234567890 id 01a22275-8c3c year 2026"
    masked = mask_identifiers(text)
    assert masked == ("nik=3201********0001 kk 3201********0001 hp 0*********** +62*********** "
                      "id 01a22275-8c3c year 2026")


def test_log_file_is_masked_even_for_careless_callers(tmp_path: Path) -> None:
    paths = Paths(tmp_path).ensure()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        setup_logging(paths, logging.DEBUG)
        logging.getLogger("careless").debug("saving member %s with phone %s", "3201054512900001", "081234567890")
        logging.getLogger("careless").error("bad row: {'nik': '3201054512900001'}")
        for handler in root.handlers:
            handler.flush()
    finally:
        root.handlers = handlers
        root.setLevel(level)
    text = (paths.logs / "desmig.log").read_text(encoding="utf-8")
    assert "3201********0001" in text and "3201054512900001" not in text and "081234567890" not in text


def test_a_profile_switch_closes_the_previous_log_file(tmp_path: Path) -> None:
    """Each profile logs into its own folder; the one left is closed, not kept open for good."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        first, second = Paths(tmp_path / "a").ensure(), Paths(tmp_path / "b").ensure()
        setup_logging(first)
        [old] = [h for h in root.handlers if isinstance(h, RotatingFileHandler)]
        setup_logging(second)
        logging.getLogger("switch").info("after the switch")
        [new] = [h for h in root.handlers if isinstance(h, RotatingFileHandler)]
        new.flush()
    finally:
        root.handlers = handlers
        root.setLevel(level)
    assert old is not new and old.stream is None  # closed
    assert "after the switch" in (second.logs / "desmig.log").read_text(encoding="utf-8")
    assert "after the switch" not in (first.logs / "desmig.log").read_text(encoding="utf-8")


def test_server_log_config_masks_uvicorn_handlers() -> None:
    import logging.config

    from desmig_server.cli import _masked_uvicorn_logging

    config = _masked_uvicorn_logging()
    assert all("mask" in h["filters"] for h in config["handlers"].values())
    logging.config.dictConfig(config)  # valid for dictConfig
    record = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, "bad %s", ("3201054512900001",), None)
    from desmig_desktop.domain.privacy import MaskingFilter

    assert MaskingFilter().filter(record) and record.getMessage() == "bad 3201********0001"
