"""The dashboard's figure cards: the area's totals in large type, the same selections as the HQ tiles
(households and businesses; the programme's pillars below them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from desmig_desktop.domain.report_spec import SUMMARY_KEYS
from desmig_desktop.ui.dashboard import figures

Report = Mapping[str, Any]


class FigureCards(QWidget):
    """The area's totals in large type, one small card per figure."""

    def __init__(self, parent: QWidget | None = None, keys: tuple[str, ...] = SUMMARY_KEYS) -> None:
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(6)
        self.values: dict[str, QLabel] = {}
        for column, key in enumerate(keys):
            card = QFrame(self)
            card.setObjectName("figure_card")
            card.setStyleSheet("#figure_card { background: #f3f6fa; border: 1px solid #d5dde8; border-radius: 4px; }")
            inner = QVBoxLayout(card)
            inner.setContentsMargins(8, 4, 8, 4)
            inner.setSpacing(0)
            value = QLabel("–", card)
            value.setStyleSheet("font-size: 14pt; font-weight: bold; color: #1d3d5f;")
            caption = QLabel(figures.label(key), card)
            caption.setWordWrap(True)
            caption.setStyleSheet("color: #44515f;")
            card.setToolTip(figures.explanation(key))
            inner.addWidget(value)
            inner.addWidget(caption)
            inner.addStretch(1)  # a card taller than its text (a neighbour's caption wraps) keeps its number on top
            self._grid.addWidget(card, 0, column)
            self._grid.setColumnStretch(column, 1)
            self.values[key] = value

    def set_figures(self, totals: Report | None) -> None:
        for key, value in self.values.items():
            value.setText(figures.format_figure(key, totals.get(key)) if totals else "–")
            box = value.parentWidget()
            if box is not None:
                box.setVisible(totals is None or key in totals)
