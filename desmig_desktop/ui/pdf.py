"""Printing an HTML page to an A4 PDF (``QTextDocument`` through ``QPrinter``), for every printout.

Runs on the GUI thread (text layout uses the GUI's fonts); a page takes a few tens of
milliseconds. The file is written beside its target and renamed into place, so a failure leaves
no half-written PDF.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QPageLayout, QPageSize, QTextDocument
from PySide6.QtPrintSupport import QPrinter

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError


def write_html_pdf(html: str, title: str, out: Path) -> None:
    """Print ``html`` to ``out`` (A4, 2 cm margins); ``KnownError`` when it cannot be written."""
    document = QTextDocument()
    document.setHtml(html)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    # No printer margin: QTextDocument.print_ lays an unpaginated document out with 2 cm margins itself.
    printer.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter)
    printer.setDocName(title)
    printer.setCreator("Desmigratif")
    tmp = out.with_name(out.stem + ".part.pdf")  # ends in .pdf: QPrinter keys its format on the suffix
    printer.setOutputFileName(str(tmp))
    document.print_(printer)
    try:
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise KnownError(_("Berkas PDF tidak bisa ditulis di {path}.", path=out))
        tmp.replace(out)
    except OSError as exc:
        raise KnownError(_("Berkas PDF tidak bisa ditulis: {reason}", reason=exc.strerror or exc)) from exc
    finally:
        tmp.unlink(missing_ok=True)
