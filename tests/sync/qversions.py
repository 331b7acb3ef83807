"""Helpers of the questionnaire-version tests (issue 16 §3): version 2 as HQ publishes it, and a
device that stays on its version (an app from before questionnaire versions)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from desmig_desktop.domain.questionnaire import bundled_document
from desmig_desktop.sync.context import Tally
from desmig_desktop.sync.protocol import Hello
from desmig_desktop.sync.questionnaire import QuestionnaireStep

# What version 2 adds: a choice question to households, an integer question to businesses,
# and a new answer to an existing choice (businesses.capital_source).
NEW_HOUSEHOLD_FIELD = {
    "key": "training", "label": {"id": "Pelatihan yang pernah diikuti", "en": "Training attended"},
    "kind": "choice", "choices": [
        {"value": "las", "label": {"id": "Pengelasan", "en": "Welding"}},
        {"value": "menjahit", "label": {"id": "Menjahit", "en": "Sewing"}},
        {"value": "bahasa", "label": {"id": "Bahasa asing", "en": "Foreign language"}}]}
NEW_BUSINESS_FIELD = {"key": "online_share", "label": {"id": "Porsi penjualan daring (%)", "en": "Online sales (%)"},
                      "kind": "int", "minimum": 0, "maximum": 100}
NEW_CHOICE = {"value": "koperasi", "label": {"id": "Pinjaman koperasi", "en": "Cooperative loan"}}


def v2_document() -> dict[str, Any]:
    doc = copy.deepcopy(bundled_document())
    doc["version"] = 2
    for entity in doc["entities"]:
        if entity["name"] == "households":
            entity["fields"].append(copy.deepcopy(NEW_HOUSEHOLD_FIELD))
        elif entity["name"] == "businesses":
            entity["fields"].append(copy.deepcopy(NEW_BUSINESS_FIELD))
            for f in entity["fields"]:
                if f["key"] == "capital_source":
                    f["choices"].append(copy.deepcopy(NEW_CHOICE))
    return doc


def write_document(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


class KeepVersion(QuestionnaireStep):
    """A device that never fetches a questionnaire (an app from before versions): it stays on
    the version it is on and keeps the answers it does not know in ``extra``."""

    def update(self, hello: Hello, tally: Tally) -> None:
        return None
