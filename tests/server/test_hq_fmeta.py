"""The stored form of a record's field metadata: compact, lossless, and still reading old rows."""

from __future__ import annotations

import json

from desmig_server.sync.state import decode_fmeta, encode_fmeta

A = [7, "dev-a", "officer"]
B = [9, "dev-b", "supervisor"]


def test_each_distinct_meta_is_stored_once_and_decodes_to_the_same_mapping() -> None:
    fmeta = {"_state": A, "head_name": list(A), "rt": A, "notes": B}
    text = encode_fmeta(fmeta)
    stored = json.loads(text)
    assert sorted(map(tuple, stored["~m"])) == [tuple(A), tuple(B)]  # equal lists stored once
    assert text.count("dev-a") == 1 and text.count("dev-b") == 1
    assert decode_fmeta(text) == fmeta
    assert encode_fmeta(decode_fmeta(text)) == text  # stable: same row text after a round trip


def test_rows_written_before_the_compact_form_still_read() -> None:
    old = json.dumps({"_state": A, "head_name": A, "notes": B}, sort_keys=True)
    assert decode_fmeta(old) == {"_state": A, "head_name": A, "notes": B}


def test_an_empty_mapping_round_trips() -> None:
    assert decode_fmeta(encode_fmeta({})) == {}
