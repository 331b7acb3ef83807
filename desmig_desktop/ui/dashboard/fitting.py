"""Labels that fit the room they get on a 1024×600 screen: wrapped, abbreviated, then shortened with "…".

The dashboard's column titles and chart labels are long Indonesian phrases ("Rumah tangga dengan
usaha", "G — Perdagangan besar"). Wherever one is shown shorter than it is, the full text is
in the tooltip (the callers' part). Text widths come from the font that paints them.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QSplitter, QWidget

ELLIPSIS = "…"
MAX_TITLE_LINES = 3


def _fits(fm: QFontMetrics, text: str, width: int) -> bool:
    return fm.horizontalAdvance(text) <= width


def wrap(text: str, fm: QFontMetrics, width: int) -> list[str] | None:
    """``text`` on lines of whole words each at most ``width`` wide; None when one word is wider."""
    lines: list[str] = []
    for word in text.split():
        if not _fits(fm, word, width):
            return None
        if lines and _fits(fm, f"{lines[-1]} {word}", width):
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [text]


def shorten(text: str, fm: QFontMetrics, width: int) -> str:
    """One line at most ``width`` wide: ``text`` itself, else its first words and "…", else cut by Qt's elision."""
    if _fits(fm, text, width):
        return text
    elided = fm.elidedText(text, Qt.TextElideMode.ElideRight, max(0, width))
    words = text.split()
    for n in range(len(words) - 1, 0, -1):
        head = " ".join(words[:n]).rstrip(" —-–,;:/(") + ELLIPSIS
        if _fits(fm, head, width):  # whole words read better, unless they keep much less of the text
            return head if len(head) >= len(elided) - 2 else elided
    return elided


def fit_title(full: str, short: str, fm: QFontMetrics, width: int, max_lines: int = MAX_TITLE_LINES) -> str:
    """A column title for ``width``: ``full`` wrapped on up to ``max_lines`` lines, else ``short`` wrapped,
    else ``short`` shortened on one line. Lines are joined with ``\\n``."""
    for text in dict.fromkeys((full, short)):
        lines = wrap(text, fm, width)
        if lines is not None and len(lines) <= max_lines:
            return "\n".join(lines)
    return shorten(short, fm, width)


class ElidedLabel(QLabel):
    """A one-line label that gives up width before anything beside it does: shown whole when it has
    the room, else cut with "…" and its full text in the tooltip (the dashboard's status beside the
    export buttons on a 1024-pixel screen)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # takes what is left

    def setText(self, text: str) -> None:
        self._full = text
        self._fit()

    def full_text(self) -> str:
        return self._full

    def _fit(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(0, self.width()))
        super().setText(shown)
        self.setToolTip(self._full if shown != self._full else "")

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance(self._full), super().sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()


class CompactSplitter(QSplitter):
    """A splitter that asks for no more height than its panes' minimums. In a scroll area that fits its
    content to the width (word-wrapped cards above), the content is as tall as its preferred height:
    with the panes' own preferences (a table's 192 pixels, the charts' 234) the dashboard scrolled on
    a 1366×768 screen too. Extra height is still shared by the panes' stretch factors."""

    def sizeHint(self) -> QSize:
        return self.minimumSizeHint()
