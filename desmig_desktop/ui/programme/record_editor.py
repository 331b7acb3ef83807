"""The form of one programme record with its children (attendance, a cooperative's members and
businesses): the generic ``SpecForm`` for the record, a ``ChildSection`` per child entity.

Everything typed goes straight into the ``ProgrammeRecord`` being edited, which is what
``services.programme.save_record`` validates and saves and what the draft holds (written
``DRAFT_DELAY_MS`` after the last change and when the cursor leaves a field, as for a household
form). Hard errors are shown beside their fields and the save is refused; warnings need one
explicit confirmation. References are picked from lists of the record's village, named by name
and household head (children of PMI first and marked, for attendance).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from desmig_desktop.domain.fields import Kind
from desmig_desktop.domain.i18n import _, pick
from desmig_desktop.domain.specs import EntitySpec
from desmig_desktop.errors import KnownError, NeedsConfirmation, RecordIssue, ValidationFailed
from desmig_desktop.services import drafts, questionnaire, regions
from desmig_desktop.services import programme as prog
from desmig_desktop.services.handle import Database
from desmig_desktop.services.programme_lists import Option, business_options, member_options
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.child_section import ChildSection
from desmig_desktop.ui.field_widgets import ComboEditor
from desmig_desktop.ui.form import SpecForm
from desmig_desktop.ui.form_draft import DRAFT_DELAY_MS

log = logging.getLogger(__name__)


def _child_texts(spec: EntitySpec) -> tuple[str, str, str]:
    """What a child section is called and what its buttons say."""
    entity_name = spec.name
    if entity_name == "parenting_attendance":
        return _("Kehadiran anggota terdata (anak PMI dan pengasuh)"), _("Tambah peserta"), _("Hapus peserta")
    if entity_name == "cooperative_members":
        return _("Anggota koperasi/kelompok"), _("Tambah anggota"), _("Hapus anggota")
    if entity_name == "cooperative_businesses":
        return _("Usaha yang didukung"), _("Tambah usaha"), _("Hapus usaha")
    return pick(spec.label_id, spec.label_en), _("Tambah"), _("Hapus")


class RecordEditor(QWidget):
    """Edits one record of ``entity_name``; ``save()`` writes it through the programme service.

    Its fields are those of the questionnaire version the database was on when the editor was
    built (``version``), as a household form's are (``editor_sections``): a version applied by a
    sync later shows in the editor the page builds for the next record it opens
    (``RecordPage.show_record``); this one keeps its widgets and what was typed, and its save
    validates under the active version, keeping the stored answers it does not show.
    """

    saved = Signal(str, object, str)  # record id, undo changes, how the record is named
    close_requested = Signal()
    delete_requested = Signal()
    dirty_changed = Signal(bool)

    def __init__(self, db: Database, entity_name: str, villages: Sequence[str], *,
                 draft_delay_ms: int = DRAFT_DELAY_MS, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db = db
        q = questionnaire.active(db)
        self.version = q.version
        self._specs = {name: q.entity(name) for name in (entity_name, *prog.child_entities(entity_name))}
        self.spec = self._specs[entity_name]
        self._villages = tuple(villages)
        self.record = prog.new_record(entity_name)
        self.dirty = False
        self._loading = False
        self._labels: dict[str, dict[str, str]] = {}  # per reference field: {id: how the record is named}
        self._children_of_pmi: set[str] = set()  # member ids of the village's children of PMI
        self._writer = drafts.DraftWriter(db)
        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(draft_delay_ms)
        self._draft_timer.timeout.connect(self.write_draft)
        self._build()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel(self)
        self.heading.setObjectName("record_heading")
        self.heading.setStyleSheet("font-size: 13pt; font-weight: bold;")
        self.heading.setWordWrap(True)  # a long topic wraps instead of widening the form
        outer.addWidget(self.heading)
        self.summary = QLabel(self)
        self.summary.setObjectName("record_summary")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet(dialogs.ERROR_STYLE)
        self.summary.hide()
        outer.addWidget(self.summary)
        body = self.body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 8, 0)
        keys = [f.key for f in self.spec.fields if not f.hidden]  # a page's record shows its parent link too
        self.form = SpecForm(self.spec, self._db, keys=keys, parent=body)
        layout.addWidget(self.form)
        self.sections: dict[str, ChildSection] = {}
        for name in prog.child_entities(self.spec.name):
            layout.addWidget(self._child_section(name, body))
        layout.addStretch(1)
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidget(body)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(self.scroll_area, 1)
        buttons = QHBoxLayout()
        self.status = QLabel(self)
        self.status.setObjectName("record_status")
        self.status.setWordWrap(True)
        self.save_button = QPushButton(_("Simpan (Ctrl+S)"), self)
        self.save_button.setObjectName("save_record")
        self.delete_button = QPushButton(_("Hapus…"), self)
        self.delete_button.setObjectName("delete_record")
        self.close_button = QPushButton(_("Tutup (Esc)"), self)
        buttons.addWidget(self.status, 1)
        for button in (self.save_button, self.delete_button, self.close_button):
            button.setAutoDefault(True)  # Enter presses a focused button, as Space does
            buttons.addWidget(button)
        outer.addLayout(buttons)
        self.save_button.clicked.connect(lambda: self.save())
        self.delete_button.clicked.connect(self.delete_requested)
        self.close_button.clicked.connect(self.close_requested)
        self.form.changed.connect(self._on_form_changed)
        for _key, editor, _options in self._pickers(None, listing=False):
            editor.combo.currentTextChanged.connect(editor.combo.setToolTip)  # a long name cut in the box is whole here

    def _child_section(self, name: str, parent: QWidget) -> ChildSection:
        spec = self._specs[name]
        title, add_text, remove_text = _child_texts(spec)
        section = ChildSection(
            spec, self._db, title=title, rows=partial(self._children, name), add_record=partial(self._add_child, name),
            remove_record=partial(self._remove_child, name), add_text=add_text, remove_text=remove_text,
            describe=partial(self._child_name, name), remove_question=_("Hapus {what} dari daftar ini?"),
            ref_label=self._ref_label, parent=parent)
        section.setObjectName(f"section_{name}")
        section.changed.connect(self._mark_dirty)
        section.form.changed.connect(lambda key, n=name: self._on_child_changed(n, key))
        self.sections[name] = section
        return section

    # showing a record ----------------------------------------------------------------------

    def show_record(self, rec: prog.ProgrammeRecord, *, restored: bool = False) -> None:
        """Show ``rec`` (a new, loaded or restored record); ``restored``: its contents are unsaved edits."""
        self._draft_timer.stop()
        self.record = rec
        for name in prog.child_entities(self.spec.name):
            rec.children.setdefault(name, [])
        self._loading = True
        try:
            self.form.set_values(rec.values)
            self.refresh_options()  # the pickers list the records of the village just shown
            self.form.set_values(rec.values)
            for section in self.sections.values():
                section.reload()
        finally:
            self._loading = False
        if self.spec.has("village_code"):  # a profile's village is its identity; others may move
            self.form.editors["village_code"].widget.setEnabled(not (rec.entity == "village_profiles" and not rec.is_new))
        self.clear_issues()
        self.delete_button.setEnabled(not rec.is_new)
        self._set_dirty(restored)
        self.status.setText(_("Dipulihkan dari isian tersimpan otomatis; belum disimpan.") if restored else "")
        self._update_heading()

    def needed_width(self) -> int:
        """How wide the form must be to show its fields without a sideways scroll."""
        return self.body.minimumSizeHint().width() + 2 * self.scroll_area.verticalScrollBar().sizeHint().width()

    def title(self) -> str:
        """What the form shows: the kind of record and who or what it is about ("Layanan migrasi: Tarsih")."""
        values, label = self.record.values, pick(self.spec.label_id, self.spec.label_en)
        named = next((str(values[k]) for k in ("name", "topic", "walk_in_name") if self.spec.has(k) and values.get(k)),
                     None)
        for key in ("member_id", "business_id"):
            if named is None and self.spec.has(key) and values.get(key):
                named = self._ref_label(key, values[key]).split(" — ")[0]
        if named is None and values.get("village_code"):
            named = regions.names(self._db, [str(values["village_code"])]).get(str(values["village_code"]))
        if named is None:
            return _("{what} (baru)", what=label) if self.record.is_new else label
        return _("{what}: {name}", what=label, name=named)

    def _update_heading(self) -> None:
        self.heading.setText(self.title() + (" *" if self.dirty else ""))

    def village(self) -> str | None:
        if self.spec.has("village_code"):
            value = self.form.editors["village_code"].value()
            return str(value) if value else None
        return None

    def refresh_options(self) -> None:
        """Fill the reference pickers with the records of the record's village (the officer's, for a business)."""
        village = self.village()
        for key, editor, options in self._pickers(village):
            current = editor.value()
            listed = {o.id: o.label for o in options}
            self._children_of_pmi.update(o.id for o in options if o.child_of_pmi)
            if current and current not in listed:  # still shown, though no longer in the village's lists
                listed[current] = self._labels.get(key, {}).get(current, _("(tidak ada lagi di desa ini)"))
            self._labels.setdefault(key, {}).update(listed)
            editor.set_options(list(listed.items()))
            editor.set_value(current)

    def _pickers(self, village: str | None, *, listing: bool = True) -> list[tuple[str, ComboEditor, list[Option]]]:
        """The reference pickers of the form and its sections with their options (none unless ``listing``)."""
        found: list[tuple[str, ComboEditor, list[Option]]] = []
        forms = [(self.spec.name, self.form), *((name, s.form) for name, s in self.sections.items())]
        members: list[Option] | None = None
        for entity_name, form in forms:
            spec = self._specs[entity_name]
            for key, editor in form.editors.items():
                fs = spec.field(key)
                if fs.kind is not Kind.REF or not isinstance(editor, ComboEditor):
                    continue
                if not listing:
                    found.append((key, editor, []))
                elif fs.ref_entity == "members":
                    members = member_options(self._db, village) if members is None else members
                    found.append((key, editor, members))
                elif fs.ref_entity == "businesses":
                    found.append((key, editor, business_options(self._db, [village] if village else self._villages)))
        return found

    def _ref_label(self, key: str, value: Any) -> str:
        return self._labels.get(key, {}).get(str(value), _("(tidak ada lagi di desa ini)"))

    # editing -------------------------------------------------------------------------------

    def _on_form_changed(self, key: str) -> None:
        if self._loading:
            return
        self.record.values.update(self.form.values())
        if key == "village_code":
            self.refresh_options()
        self._mark_dirty()

    def _on_child_changed(self, entity_name: str, key: str) -> None:
        """An attendee picked with no role yet: a child of PMI attends as a child, anyone else as a caregiver."""
        section = self.sections[entity_name]
        record = section.current()
        if entity_name != "parenting_attendance" or key != "member_id" or record is None or record.get("role"):
            return
        role = "anak" if record.get("member_id") in self._children_of_pmi else "pengasuh"
        section.form.set_value("role", role)
        record["role"] = role
        section.model.reset()
        section.select_id(str(record["id"]))

    def _children(self, entity_name: str) -> list[dict[str, Any]]:
        return self.record.children.setdefault(entity_name, [])

    def _add_child(self, entity_name: str) -> dict[str, Any]:
        record: dict[str, Any] = {"id": None}
        self.record.children.setdefault(entity_name, []).append(record)
        self.record.ensure_ids()
        return record

    def _remove_child(self, entity_name: str, record: dict[str, Any]) -> None:
        self.record.children[entity_name].remove(record)

    def _child_name(self, entity_name: str, record: dict[str, Any]) -> str:
        spec = self._specs[entity_name]
        ref = next(f.key for f in spec.fields if f.kind is Kind.REF and f.key != spec.parent_key)
        return self._ref_label(ref, record.get(ref)) if record.get(ref) else pick(spec.label_id, spec.label_en)

    def _mark_dirty(self) -> None:
        if self._loading:
            return
        self._draft_timer.start()
        self._set_dirty(True)
        self.status.setText(_("Ada perubahan yang belum disimpan."))
        self._update_heading()

    def _set_dirty(self, dirty: bool) -> None:
        changed = dirty != self.dirty
        self.dirty = dirty
        if changed:
            self.dirty_changed.emit(dirty)

    def _on_focus_changed(self, old: QWidget | None, _new: QWidget | None) -> None:
        if old is not None and self.isAncestorOf(old) and self._draft_timer.isActive():
            self.write_draft()  # leaving a field: what was typed in it is kept now

    # saving --------------------------------------------------------------------------------

    def save(self, *, confirm_warnings: bool = False) -> bool:
        """Validate and save; False (with the reasons shown) if refused."""
        rec = prog.ProgrammeRecord(self.record.entity, dict(self.record.values),
                                   {n: [dict(r) for r in rows] for n, rows in self.record.children.items()},
                                   dict(self.record.loaded))
        try:
            result = prog.save_record(self._db, rec, confirm_warnings=confirm_warnings)
        except ValidationFailed as exc:
            self.show_issues(exc.issues)
            self.status.setText(_("Belum tersimpan: ada {count} kesalahan.", count=len(exc.issues)))
            return False
        except NeedsConfirmation as exc:
            self.show_issues(exc.issues)
            if dialogs.confirm(self, _("Peringatan"), _("Ada {count} peringatan (lihat isian yang ditandai). "
                                                         "Simpan tetap?", count=len(exc.issues)),
                               _("Simpan tetap"), _("Periksa dulu")):
                return self.save(confirm_warnings=True)
            self.status.setText(_("Belum tersimpan: periksa peringatan yang ditandai."))
            return False
        except KnownError as exc:
            dialogs.show_error(self, exc)
            return False
        log.info("%s saved (%d ops)", self.spec.name, len(result.op_seqs))
        old_key = prog.draft_key(self.spec.name, self.record.id)
        self.record.values["id"] = result.record_id  # a new village profile's id follows its village
        self.discard_draft(old_key)
        self.show_record(prog.load_record(self._db, self.spec.name, result.record_id))
        self.status.setText(_("Tersimpan."))
        self.saved.emit(result.record_id, result.undo, self.title())
        return True

    def show_issues(self, issues: list[RecordIssue]) -> None:
        mine = [ri.issue for ri in issues if ri.entity == self.spec.name]
        unplaced = self.form.show_errors(mine)
        for name, section in self.sections.items():
            by_record: dict[str, list[Any]] = {}
            for ri in issues:
                if ri.entity == name:
                    by_record.setdefault(ri.record_id, []).append(ri.issue)
            section.set_issues(by_record)
        lines = [i.message for i in unplaced]
        children = sum(1 for ri in issues if ri.entity != self.spec.name)
        if children:
            lines.append(_("{count} masalah pada daftar di bawah (baris bertanda merah).", count=children))
        self.summary.setText("\n".join(lines))
        self.summary.setVisible(bool(lines))
        first = next((i.field for i in mine if i.field in self.form.editors), None)
        if first is not None:
            self.form.focus_field(first)

    def clear_issues(self) -> None:
        self.form.clear_errors()
        for section in self.sections.values():
            section.set_issues({})
        self.summary.hide()

    # drafts and closing --------------------------------------------------------------------

    def write_draft(self) -> None:
        self._draft_timer.stop()
        if self.dirty:
            self._writer.write(prog.draft_key(self.spec.name, self.record.id), prog.snapshot(self.record))

    def discard_draft(self, key: str | None = None) -> None:
        self._draft_timer.stop()
        self._writer.discard(key or prog.draft_key(self.spec.name, self.record.id))

    def ask_discard(self) -> bool:
        """True if there is nothing to lose or the officer agreed to throw the changes away."""
        if not self.dirty:
            return True
        if not dialogs.confirm(self, _("Buang perubahan?"),
                               _("Perubahan pada {title} belum disimpan. Buang perubahan itu?", title=self.title()),
                               _("Buang perubahan"), _("Kembali mengisi"), destructive=True):
            return False
        self.discard_draft()
        self._set_dirty(False)
        return True

    def retire(self) -> None:
        """This editor is replaced (by one of a newer questionnaire version): it stops listening and goes."""
        self._draft_timer.stop()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.disconnect(self._on_focus_changed)
        self.deleteLater()

    def focus_first_field(self) -> None:
        editors = [e for e in self.form.editors.values() if e.widget.isEnabled()]
        target = editors[0].focus_widget if editors else self.form.first_field()
        if self.spec.has("village_code") and self.village() and len(editors) > 1 and \
                editors[0] is self.form.editors["village_code"]:
            target = editors[1].focus_widget  # the village is known: start after it
        target.setFocus(Qt.FocusReason.OtherFocusReason)
