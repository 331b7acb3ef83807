"""Which questionnaire changes a published version may make without a new app (issue 16 §2).

``compare(old, new)`` lists every difference between two questionnaires as a ``Change``:
``compatible`` ones (a new optional question of a kind the app knows, a new choice, a label or
help text, a soft rule, hiding or showing a question, a bound loosened, a date made a planned one
that may lie ahead) reach every laptop at its next sync; any other (a new or removed entity, a
removed question or choice, a changed kind, a question made required, a bound tightened that
stored answers may break, a planned date made an ordinary one, …) is refused by
``desmig-hq questionnaire publish`` with the change's reason in Bahasa Indonesia and English,
and needs an app release. The rule of thumb: every record valid under ``old`` stays storable
under ``new``, and no code of the installed app meets a shape it does not know.

``refused(changes)`` keeps the refused ones; ``summary(changes)`` counts the compatible ones by
what an officer notices ("2 pertanyaan baru"), for the device's notice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from desmig_desktop.domain.questionnaire import Questionnaire
from desmig_desktop.domain.specs import EntitySpec, FieldSpec, Kind, Relevance

# Kinds a new question may have without a new app: each has its widget, coercion, check, column
# type and export format already, and no code gives it a meaning beyond its value. Not: ``ref``
# (parents, scopes, cascades), ``derived`` (computed by code), ``nik``/``kk``/``region`` (identity
# checks, masking, scope), ``datetime`` (set by the app, never typed).
NEW_FIELD_KINDS = frozenset({Kind.TEXT, Kind.LONG_TEXT, Kind.INT, Kind.MONEY, Kind.FLOAT, Kind.DATE, Kind.BOOL,
                             Kind.CHOICE, Kind.MULTI, Kind.PHONE, Kind.COUNTRY, Kind.DIGITS})


@dataclass(frozen=True)
class Change:
    code: str  # e.g. "field_added", "choice_removed" (stable, for tools and tests)
    entity: str | None
    field: str | None
    compatible: bool
    message_id: str
    message_en: str

    def describe(self, lang: str = "id") -> str:
        where = ".".join(p for p in (self.entity, self.field) if p)
        return f"{where}: {self.message_en if lang == 'en' else self.message_id}" if where else (
            self.message_en if lang == "en" else self.message_id)


def refused(changes: list[Change]) -> list[Change]:
    return [c for c in changes if not c.compatible]


def summary(changes: list[Change]) -> dict[str, int]:
    """Compatible changes counted by code (``{"field_added": 2, "choice_added": 1}``)."""
    out: dict[str, int] = {}
    for c in changes:
        if c.compatible:
            out[c.code] = out.get(c.code, 0) + 1
    return out


def _ok(code: str, entity: str | None, key: str | None, msg_id: str, msg_en: str) -> Change:
    return Change(code, entity, key, True, msg_id, msg_en)


def _no(code: str, entity: str | None, key: str | None, msg_id: str, msg_en: str) -> Change:
    return Change(code, entity, key, False, msg_id, msg_en)


def compare(old: Questionnaire, new: Questionnaire) -> list[Change]:
    """Every difference from ``old`` to ``new``, in document order; see the module docstring."""
    changes: list[Change] = []
    for name in new.entities.keys() - old.entities.keys():
        changes.append(_no("entity_added", name, None, "Entitas baru butuh rilis aplikasi baru (tabel dan layar baru).",
                           "A new entity needs a new app release (new table and screens)."))
    for name in old.entities.keys() - new.entities.keys():
        changes.append(_no("entity_removed", name, None, "Entitas tidak boleh dihapus: datanya masih tersimpan.",
                           "An entity may not be removed: its records are still stored."))
    common = [e.name for e in old.entity_specs if e.name in new.entities]
    if common != [e.name for e in new.entity_specs if e.name in old.entities]:
        changes.append(_no("entity_order", None, None, "Urutan entitas tidak boleh diubah.",
                           "The order of the entities may not change."))
    for name in common:
        changes.extend(_entity_changes(old.entity(name), new.entity(name)))
    changes.extend(_rule_changes(old, new))
    return sorted(changes, key=lambda c: c.compatible)  # refusals first, each group in document order


def _entity_changes(old: EntitySpec, new: EntitySpec) -> Iterator[Change]:
    name = old.name
    if (old.label_id, old.label_en) != (new.label_id, new.label_en):
        yield _ok("label_changed", name, None, "Nama entitas diubah.", "The entity's name changed.")
    if old.parent_key != new.parent_key or old.relevant != new.relevant:
        yield _no("entity_changed", name, None, "Induk atau syarat entitas tidak boleh diubah.",
                  "An entity's parent or condition may not change.")
    kept = [k for k in old.keys if new.has(k)]
    if kept != [k for k in new.keys if old.has(k)]:
        yield _no("field_order", name, None, "Urutan pertanyaan yang sudah ada tidak boleh diubah (kolom ekspor).",
                  "Existing questions may not be reordered (export columns).")
    for f in old.fields:
        if not new.has(f.key):
            yield _no("field_removed", name, f.key, "Pertanyaan tidak boleh dihapus (jawabannya masih tersimpan); "
                      "sembunyikan saja.", "A question may not be removed (its answers are stored); hide it instead.")
        else:
            yield from _field_changes(name, f, new.field(f.key))
    for f in new.fields:
        if not old.has(f.key):
            yield from _new_field(name, f)


def _new_field(entity: str, f: FieldSpec) -> Iterator[Change]:
    if f.kind not in NEW_FIELD_KINDS:
        yield _no("field_added_kind", entity, f.key,
                  f"Pertanyaan baru berjenis {f.kind.value} butuh rilis aplikasi baru.",
                  f"A new question of kind {f.kind.value} needs a new app release.")
    elif f.required:
        yield _no("field_added_required", entity, f.key,
                  "Pertanyaan baru tidak boleh wajib: data yang sudah ada tidak punya jawabannya.",
                  "A new question may not be required: existing records have no answer to it.")
    elif f.hidden:
        yield _no("field_added_hidden", entity, f.key, "Pertanyaan baru yang tersembunyi tidak akan pernah diisi.",
                  "A new hidden question would never be answered.")
    else:
        yield _ok("field_added", entity, f.key, "Pertanyaan baru.", "New question.")


def _bounds_changes(entity: str, old: FieldSpec, new: FieldSpec) -> Iterator[Change]:
    tighter = (
        (new.minimum is not None and (old.minimum is None or new.minimum > old.minimum))
        or (new.maximum is not None and (old.maximum is None or new.maximum < old.maximum))
        or (new.max_length is not None and (old.max_length is None or new.max_length < old.max_length))
    )
    if tighter:
        yield _no("bounds_tightened", entity, old.key,
                  "Batas nilai atau panjang diperketat: jawaban yang sudah tersimpan bisa menjadi tidak sah.",
                  "A bound or length limit was tightened: stored answers could become invalid.")
    elif (old.minimum, old.maximum, old.max_length) != (new.minimum, new.maximum, new.max_length):
        yield _ok("bounds_loosened", entity, old.key, "Batas nilai atau panjang dilonggarkan.",
                  "A bound or length limit was loosened.")
    if (old.length, old.zero_pad) != (new.length, new.zero_pad):
        yield _no("length_changed", entity, old.key, "Panjang tetap atau pengisian nol tidak boleh diubah.",
                  "A fixed length or zero padding may not change.")


def _widens(old: Relevance | None, new: Relevance | None) -> bool:
    """Whether ``new`` asks the question at least whenever ``old`` did (so no stored answer is dropped)."""
    if new is None:
        return True
    return old is not None and old.field == new.field and old.of_parent == new.of_parent and set(old.values) <= set(
        new.values)


def _field_changes(entity: str, old: FieldSpec, new: FieldSpec) -> Iterator[Change]:
    key = old.key
    if old.kind is not new.kind:
        yield _no("kind_changed", entity, key, f"Jenis jawaban tidak boleh diubah ({old.kind.value} → {new.kind.value}).",
                  f"The kind of answer may not change ({old.kind.value} → {new.kind.value}).")
        return
    if not old.required and new.required:
        yield _no("field_required", entity, key, "Pertanyaan dijadikan wajib: data lama tanpa jawaban akan ditolak.",
                  "The question became required: older records without an answer would be refused.")
    elif old.required and not new.required:
        yield _no("field_optional", entity, key, "Pertanyaan wajib tidak boleh dijadikan opsional (aplikasi "
                  "mengandalkannya).", "A required question may not become optional (the app relies on it).")
    if (old.label_id, old.label_en) != (new.label_id, new.label_en):
        yield _ok("label_changed", entity, key, "Teks pertanyaan diubah.", "The question's text changed.")
    if (old.help_id, old.help_en) != (new.help_id, new.help_en):
        yield _ok("help_changed", entity, key, "Petunjuk pertanyaan diubah.", "The question's help changed.")
    if old.hidden != new.hidden:
        yield (_ok("field_hidden", entity, key, "Pertanyaan disembunyikan (jawabannya tetap tersimpan).",
                   "The question is hidden (its answers stay stored).") if new.hidden else
               _ok("field_shown", entity, key, "Pertanyaan ditampilkan lagi.", "The question is shown again."))
    if old.planned != new.planned:
        yield (_ok("date_planned", entity, key, "Tanggal ini kini boleh di masa depan (tanggal rencana).",
                   "This date may now lie in the future (a planned date).") if new.planned else
               _no("date_unplanned", entity, key, "Tanggal rencana tidak boleh dijadikan tanggal biasa: tanggal "
                   "yang tersimpan di masa depan akan ditolak.", "A planned date may not become an ordinary "
                   "date: stored dates in the future would be refused."))
    if old.list_column != new.list_column:
        yield _ok("list_column_changed", entity, key, "Kolom daftar diubah.", "The list column changed.")
    if old.ref_entity != new.ref_entity:
        yield _no("ref_changed", entity, key, "Rujukan ke entitas lain tidak boleh diubah.",
                  "What a reference points to may not change.")
    if old.relevant != new.relevant:
        if _widens(old.relevant, new.relevant) and not new.required:
            yield _ok("relevance_widened", entity, key, "Pertanyaan kini ditanyakan lebih sering.",
                      "The question is now asked more often.")
        else:
            yield _no("relevance_changed", entity, key, "Syarat pertanyaan dipersempit atau diganti: jawaban yang "
                      "tersimpan bisa terhapus.", "The question's condition was narrowed or replaced: stored answers "
                      "could be dropped.")
    yield from _bounds_changes(entity, old, new)
    yield from _choice_changes(entity, old, new)


def _choice_changes(entity: str, old: FieldSpec, new: FieldSpec) -> Iterator[Change]:
    new_by_value = {c.value: c for c in new.choices}
    old_values = [c.value for c in old.choices]
    for c in old.choices:
        after = new_by_value.get(c.value)
        if after is None:
            yield _no("choice_removed", entity, old.key, f"Pilihan {c.value!r} tidak boleh dihapus: data bisa "
                      "memakainya.", f"Choice {c.value!r} may not be removed: records may hold it.")
        elif (c.label_id, c.label_en) != (after.label_id, after.label_en):
            yield _ok("choice_label_changed", entity, old.key, f"Teks pilihan {c.value!r} diubah.",
                      f"The text of choice {c.value!r} changed.")
    for c in new.choices:
        if c.value not in old_values:
            if old.kind is Kind.DERIVED:
                yield _no("choice_added", entity, old.key, "Pilihan isian terhitung ditentukan aplikasi.",
                          "The choices of a computed answer are set by the app.")
            else:
                yield _ok("choice_added", entity, old.key, f"Pilihan baru {c.value!r}.", f"New choice {c.value!r}.")


def _rule_changes(old: Questionnaire, new: Questionnaire) -> Iterator[Change]:
    before = {r.id: r for r in old.rules}
    after = {r.id: r for r in new.rules}
    for rule in new.rules:
        if rule.id not in before:
            yield _ok("rule_added", rule.entity, rule.field, f"Aturan peringatan baru {rule.id!r}.",
                      f"New warning rule {rule.id!r}.")
        elif before[rule.id] != rule:
            yield _ok("rule_changed", rule.entity, rule.field, f"Aturan peringatan {rule.id!r} diubah.",
                      f"Warning rule {rule.id!r} changed.")
    for rule in old.rules:
        if rule.id not in after:
            yield _ok("rule_removed", rule.entity, rule.field, f"Aturan peringatan {rule.id!r} dihapus.",
                      f"Warning rule {rule.id!r} removed.")
