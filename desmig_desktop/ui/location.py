""""Ambil lokasi": the household's coordinates from the laptop's location service.

``LocationBar`` is a button and a status line under the household form. Pressing it asks a
``PositionSource`` for one fix; the fix (latitude, longitude, accuracy radius, time) goes to the
editor through ``fix_taken``. Typed coordinates stay possible: the editor clears the accuracy and
time when the officer types latitude or longitude.

``QtPositionSource`` wraps QtPositioning's default source (Windows location service, GeoClue on
Linux). Most laptops have no GPS and many have location switched off: "no source", "access
denied" and "no fix in time" each get a Bahasa sentence telling the officer to type the
coordinates instead, and nothing in the form changes. Tests inject a fake through
``LocationBar.make_source`` (there is no real GPS under test).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from desmig_desktop.domain.coercion import parse_instant
from desmig_desktop.domain.i18n import _
from desmig_desktop.ui.formatting import format_instant

if TYPE_CHECKING:  # QtPositioning itself loads only when a location is asked for
    from PySide6.QtPositioning import QGeoPositionInfoSource

log = logging.getLogger(__name__)
REQUEST_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Fix:
    """One position: WGS 84 degrees, the horizontal accuracy radius (m, if known), UTC time."""

    latitude: float
    longitude: float
    accuracy_m: float | None
    at: str  # UTC ``YYYY-MM-DDTHH:MM:SSZ``


def utc_stamp(moment: dt.datetime | None = None) -> str:
    """``moment`` (default now; naive is UTC) as the stored UTC form of a DATETIME field."""
    return parse_instant(moment or dt.datetime.now(dt.UTC))


class PositionSource(QObject):
    """Asks for the current position once; answers with ``found`` or ``failed`` (a message)."""

    found = Signal(object)  # Fix
    failed = Signal(str)

    def request(self) -> None:
        raise NotImplementedError


def no_source_message() -> str:
    return _("Laptop ini tidak punya layanan lokasi yang bisa dipakai. Ketik lintang dan bujur dari GPS atau "
             "ponsel.")


class QtPositionSource(PositionSource):
    """The platform's location service through QtPositioning."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtPositioning import QGeoPositionInfoSource  # loaded only when the officer asks

        # desktopId: GeoClue asks which application wants the location (and warns without one)
        self._source = QGeoPositionInfoSource.createDefaultSource({"desktopId": "desmig"}, self)
        if self._source is not None:
            self._source.positionUpdated.connect(self._on_position)
            self._source.errorOccurred.connect(self._on_error)

    def request(self) -> None:
        if self._source is None:
            QTimer.singleShot(0, lambda: self.failed.emit(no_source_message()))
            return
        self._source.requestUpdate(REQUEST_TIMEOUT_MS)

    def _on_position(self, info: object) -> None:
        from PySide6.QtPositioning import QGeoPositionInfo

        assert isinstance(info, QGeoPositionInfo)
        coordinate = info.coordinate()
        accuracy = info.attribute(QGeoPositionInfo.Attribute.HorizontalAccuracy)
        when = info.timestamp().toUTC().toPython() if info.timestamp().isValid() else None
        self.found.emit(Fix(coordinate.latitude(), coordinate.longitude(),
                            accuracy if math.isfinite(accuracy) else None,
                            utc_stamp(when.replace(tzinfo=dt.UTC) if isinstance(when, dt.datetime) else None)))

    def _on_error(self, error: object) -> None:
        from PySide6.QtPositioning import QGeoPositionInfoSource

        log.info("location request failed: %s", error)
        self.failed.emit(error_message(error, QGeoPositionInfoSource.Error))


def error_message(error: object, kinds: type[QGeoPositionInfoSource.Error]) -> str:
    """The officer's sentence for a QtPositioning error."""
    if error == kinds.AccessError:
        return _("Akses lokasi ditolak. Izinkan layanan lokasi untuk aplikasi ini di pengaturan laptop, atau "
                 "ketik lintang dan bujur.")
    if error == kinds.UpdateTimeoutError:
        return _("Lokasi belum didapat dalam 30 detik. Coba lagi di luar ruangan, atau ketik lintang dan bujur.")
    return no_source_message()


class LocationBar(QWidget):
    """The "Ambil lokasi" button and what happened the last time it was pressed."""

    fix_taken = Signal(object)  # Fix

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.make_source: Callable[[QObject], PositionSource] = QtPositionSource
        self._source: PositionSource | None = None
        self.busy = False  # a request is out (the button stays enabled: disabling it would move the focus)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.button = QPushButton(_("Ambil &lokasi"), self)
        self.button.setObjectName("take_location")
        self.button.setToolTip(_("Isi lintang dan bujur dari layanan lokasi laptop (Alt+L)."))
        self.button.setAutoDefault(True)  # Enter presses it when it has the focus
        self.status = QLabel(self)
        self.status.setObjectName("location_status")
        self.status.setWordWrap(True)
        layout.addWidget(self.button)
        layout.addWidget(self.status, 1)
        self.button.clicked.connect(self.request)

    def request(self) -> None:
        if self.busy:
            return
        if self._source is None:
            self._source = self.make_source(self)
            self._source.found.connect(self._on_found)
            self._source.failed.connect(self._on_failed)
        self.busy = True
        self.status.setStyleSheet("")
        self.status.setText(_("Mencari lokasi…"))
        self._source.request()

    def _on_found(self, fix: Fix) -> None:
        self.busy = False
        self.show_fix(fix.accuracy_m, fix.at)
        self.fix_taken.emit(fix)

    def _on_failed(self, message: str) -> None:
        self.busy = False
        self.status.setStyleSheet("color: #8a5a00;")
        self.status.setText(message)

    def show_fix(self, accuracy_m: float | None, at: str | None) -> None:
        """Describe where the coordinates on screen came from (nothing for typed ones)."""
        self.status.setStyleSheet("")
        if not at:
            self.status.clear()
            return
        accuracy = _("akurasi ±{meters} m", meters=round(accuracy_m)) if accuracy_m is not None else _(
            "akurasi tidak diketahui")
        self.status.setText(_("Lokasi dari layanan lokasi laptop, {accuracy}, {when}.", accuracy=accuracy,
                              when=format_instant(at)))
