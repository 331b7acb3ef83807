"""Applying a questionnaire version on the device (``store.questionnaire_store``, issue 16 §3):
one transaction, a failure at any step leaves the old version and schema, an incompatible
document is refused with its reasons, applying twice changes nothing, and a device on an older
version never drops or blanks the answers it keeps in ``extra``."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desmig_desktop.domain.ids import new_id
from desmig_desktop.domain.wire import PulledRecord
from desmig_desktop.store import questionnaire_store as qs
from desmig_desktop.store import records
from desmig_desktop.store.db import connect
from desmig_desktop.store.sync_pull import apply_pull
from tests.sync.qversions import v2_document

VILLAGE = "35.01.01.2001"


class Boom(Exception):
    pass


def _schema(db: Any) -> list[tuple[str, str]]:
    return sorted(db.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall())


@pytest.fixture
def db(data_dir: Path) -> Any:
    database = connect(data_dir / "desmig.db")
    yield database
    database.conn.close()


@pytest.mark.parametrize("point", ["questionnaire.stored", "questionnaire.columns", "commit"])
def test_a_failure_at_each_step_leaves_version_1_and_the_schema_unchanged(db: Any, point: str) -> None:
    before = _schema(db)

    def crash(name: str) -> None:
        if name == point:
            raise Boom(name)

    if point == "commit":  # the commit itself fails: a trigger refuses the row at the end
        db.execute("CREATE TEMP TRIGGER refuse AFTER INSERT ON questionnaire_documents BEGIN"
                   " SELECT RAISE(ABORT, 'disk full'); END")
        with pytest.raises(Exception, match="disk full"):
            qs.apply_document(db, v2_document(), crash=crash)
        db.execute("DROP TRIGGER refuse")
    else:
        with pytest.raises(Boom):
            qs.apply_document(db, v2_document(), crash=crash)
    assert not db.conn.in_transaction
    assert qs.active_version(db) == 1 and qs.active(db).version == 1
    assert _schema(db) == before
    applied = qs.apply_document(db, v2_document())  # and the next attempt applies it whole
    assert applied is not None and applied.version == 2
    assert qs.active_version(db) == 2
    assert {"training"} <= {r[1] for r in db.execute("PRAGMA table_info(households)")}


def test_applying_twice_or_an_older_version_changes_nothing(db: Any) -> None:
    assert qs.apply_document(db, v2_document()) is not None
    schema = _schema(db)
    assert qs.apply_document(db, v2_document()) is None
    older = v2_document()
    older["version"] = 1
    assert qs.apply_document(db, older) is None
    assert _schema(db) == schema and qs.active_version(db) == 2


def _broken(change: str) -> dict[str, Any]:
    doc = v2_document()
    entities = {e["name"]: e for e in doc["entities"]}
    if change == "kind_changed":
        next(f for f in entities["businesses"]["fields"] if f["key"] == "workers")["kind"] = "float"
    elif change == "choice_removed":
        sex = next(f for f in entities["members"]["fields"] if f["key"] == "sex")
        sex["choices"] = sex["choices"][:1]
    elif change == "field_added_required":
        entities["households"]["fields"][-1]["required"] = True
    elif change == "entity_added":
        extra = copy.deepcopy(entities["households"])
        extra["name"] = "surveys"
        doc["entities"].append(extra)
    elif change == "field_removed":
        entities["businesses"]["fields"] = [f for f in entities["businesses"]["fields"] if f["key"] != "nib"]
    return doc


@pytest.mark.parametrize("change", ["kind_changed", "choice_removed", "field_added_required", "entity_added",
                                    "field_removed"])
def test_an_incompatible_document_is_refused_with_its_reasons_and_nothing_applied(db: Any, change: str) -> None:
    before = _schema(db)
    with pytest.raises(qs.QuestionnaireRefused) as refused:
        qs.apply_document(db, _broken(change))
    assert "butuh aplikasi baru" in str(refused.value) and refused.value.reasons
    assert qs.active_version(db) == 1 and _schema(db) == before


@pytest.mark.parametrize("doc", [None, [], {"version": 2}, {"format": 1, "version": "2", "entities": []}])
def test_a_malformed_document_is_refused_not_a_traceback(db: Any, doc: Any) -> None:
    with pytest.raises(qs.QuestionnaireRefused, match="tidak dapat dibaca"):
        qs.apply_document(db, doc)
    assert qs.active_version(db) == 1


def test_a_new_key_that_is_an_sql_keyword_gets_its_column(db: Any) -> None:
    doc = v2_document()
    households = next(e for e in doc["entities"] if e["name"] == "households")
    households["fields"].append({"key": "order", "label": {"id": "Urutan", "en": "Order"}, "kind": "int"})
    assert qs.apply_document(db, doc) is not None
    hid = new_id()
    records.apply_changes(db, [records.Change("households", hid, {"village_code": VILLAGE, "head_name": "Uji",
                                                                  "order": 3})])
    row = records.get(db, "households", hid)
    assert row is not None and row["order"] == 3


# -- an older device keeps what it does not know ------------------------------------------------
_NEW = {"training": st.sampled_from(["las", "menjahit", "bahasa"]), "future_q": st.integers(0, 10**6),
        "note_v9": st.text(max_size=20)}
_EDITS = st.dictionaries(st.sampled_from(["address", "rt", "rw", "phone", "notes", "hamlet"]),
                         st.sampled_from(["", "001", "Jl. Baru 1", None, "catatan"]), min_size=1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(unknown=st.fixed_dictionaries({}, optional=_NEW).filter(bool), edits=st.lists(_EDITS, min_size=1, max_size=4))
def test_edits_on_an_older_version_never_drop_or_blank_unknown_answers(db: Any, unknown: dict[str, Any],
                                                                        edits: list[dict[str, Any]]) -> None:
    hid = new_id()
    data = {"village_code": VILLAGE, "head_name": "Kepala Uji", **unknown}
    apply_pull(db, VILLAGE, [PulledRecord("households", hid, data, 5, False, 1)], 1, 0)
    for values in edits:
        records.apply_changes(db, [records.Change("households", hid, values)])
        for (fields,) in db.execute("SELECT fields FROM sync_outbox WHERE record_id = ?", [hid]).fetchall():
            assert not set(json.loads(fields)) & set(unknown)  # never sent, so never blanked on the server
    row = records.get(db, "households", hid)
    assert row is not None and json.loads(row["extra"]) == unknown
