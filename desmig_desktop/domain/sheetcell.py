"""Text in spreadsheet cells: written so that opening a file never runs it, read back unchanged.

One definition for every spreadsheet the project writes or reads (desktop export and import, the
import error report, the HQ dashboard's downloads):

- A CSV cell whose text a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return; OWASP "CSV injection") gets a single quote in front, which
  Excel and LibreOffice show as text. So does text that itself starts with a quote, which makes
  the escape unambiguous: on import, ONE leading quote is always dropped (``'-Budi`` → ``-Budi``,
  ``''Ali`` → ``'Ali``).
- An XLSX cell is typed as text, so nothing in it is a formula or an error value; its text is
  written as it is, except that a leading quote is doubled, because the importer reads every
  spreadsheet cell the same way (a CSV opened and saved as XLSX by Excel keeps the quotes).
- An error value a spreadsheet shows instead of a result (``#VALUE!``, ``#N/A``, LibreOffice's
  ``Err:509``) is never data: the importer refuses it instead of storing it as a name.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
ERROR_VALUES = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!",
    "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#UNKNOWN!", "#BUSY!", "#EXTERNAL!", "#PYTHON!",
})
_LIBREOFFICE_ERROR = re.compile(r"Err:\d{3}")


def runs_as_formula(text: str) -> bool:
    """Whether a spreadsheet would read this text as a formula (or an error value), not as text."""
    return text.startswith(_FORMULA_START) or is_error_value(text)


def csv_text(value: Any) -> Any:
    """A CSV cell's value: text that would run as a formula, or that starts with a quote, is quoted."""
    if isinstance(value, str) and value.startswith((*_FORMULA_START, QUOTE)):
        return QUOTE + value
    return value


def xlsx_text(value: str) -> str:
    """The text of an XLSX text cell: as it is, but with a leading quote doubled (see the module doc)."""
    return QUOTE + value if value.startswith(QUOTE) else value


def restore(value: Any) -> Any:
    """The original text of a cell written by ``csv_text`` or ``xlsx_text``: one leading quote dropped."""
    if isinstance(value, str) and value.startswith(QUOTE):
        return value[1:]
    return value


def is_error_value(value: Any) -> bool:
    """An error value of Excel or LibreOffice (``#REF!``, ``#N/A``, ``Err:502``), shown in place of a result."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    return text.upper() in ERROR_VALUES or _LIBREOFFICE_ERROR.fullmatch(text) is not None


class TextCell(Protocol):
    """What ``keep_as_text`` needs of a spreadsheet cell (an openpyxl ``Cell`` or ``WriteOnlyCell``)."""

    value: Any
    data_type: str
    quotePrefix: bool


def keep_as_text(cell: TextCell) -> TextCell:
    """Type a cell holding text as text: openpyxl makes ``=…`` a formula and ``#N/A`` an error.

    The quote prefix also keeps it text when someone edits the cell in Excel and presses Enter.
    """
    if isinstance(cell.value, str) and runs_as_formula(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell
