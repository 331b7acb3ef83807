"""Printing an HTML page to an A4 PDF (``QTextDocument`` through ``QPrinter``), for every printout.

``printout_html`` is the page every printout shares (stylesheet, the ministry's line on top, the two
signature lines at the foot); each printout passes only its sizes and its own content.

Runs on the GUI thread (text layout uses the GUI's fonts); a page takes a few tens of
milliseconds. The file is written beside its target and renamed into place, so a failure leaves
no half-written PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QPageLayout, QPageSize, QTextDocument
from PySide6.QtPrintSupport import QPrinter

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError

# Where a name is to be written by hand under a signature.
SIGNATURE_BLANK = "................................................"


@dataclass(frozen=True)
class TypeSizes:
    """Font sizes in points: the body, ``h1``-``h3`` and the ``muted`` notes; the ``h1``-``h3`` top margins in px."""

    body: float
    h1: float
    h2: float
    h3: float
    muted: float
    h1_top: int = 2
    h1_bottom: int = 2
    h2_top: int = 6
    h3_top: int = 4


def _pt(size: float) -> str:
    return f"{size:g}pt"


def _signature(lines: list[str], name: str) -> str:
    """One signature cell: its heading lines, room to sign, then the name in brackets (blank to fill in)."""
    return "<br/>".join(escape(line) for line in lines) + f"<br/><br/><br/><br/>\n({escape(name or SIGNATURE_BLANK)})"


def printout_html(body: str, *, sizes: TypeSizes, signatures: tuple[tuple[list[str], str], tuple[list[str], str]],
                  extra_css: str = "") -> str:
    """The whole HTML page of a printout around ``body`` (already escaped HTML).

    ``signatures``: the left and right cell at the foot, each as (heading lines, name or "" for a blank).
    ``extra_css``: the printout's own rules, placed before the shared ``th`` rule.
    """
    (left_lines, left_name), (right_lines, right_name) = signatures
    return f"""<html><head><style>
body {{ font-family: 'DejaVu Sans', 'Noto Sans', sans-serif; font-size: {_pt(sizes.body)}; }}
h1 {{ font-size: {_pt(sizes.h1)}; margin-top: {sizes.h1_top}px; margin-bottom: {sizes.h1_bottom}px; }}
h2 {{ font-size: {_pt(sizes.h2)}; margin-top: {sizes.h2_top}px; margin-bottom: 3px; }}
h3 {{ font-size: {_pt(sizes.h3)}; margin-top: {sizes.h3_top}px; margin-bottom: 2px; }}
.muted {{ color: #555555; font-size: {_pt(sizes.muted)}; }}
table.grid {{ border-collapse: collapse; border: 1px solid #999999; }}
table.grid td, table.grid th {{ border: 1px solid #999999; }}
{extra_css}th {{ background-color: #e8eef5; }}
</style></head><body>
<p class='muted'>{escape(_("Kementerian Ketenagakerjaan — Program Desa Migran Produktif (Desmigratif)"))}</p>
{body}
<table width='100%' cellspacing='0' cellpadding='2'><tr>
<td width='50%' align='center'>{_signature(left_lines, left_name)}</td>
<td width='50%' align='center'>{_signature(right_lines, right_name)}</td></tr></table>
</body></html>"""


def write_html_pdf(html: str, title: str, out: Path, *, landscape: bool = False) -> None:
    """Print ``html`` to ``out`` (A4, 2 cm margins; ``landscape`` for wide tables); ``KnownError``
    when it cannot be written."""
    document = QTextDocument()
    document.setHtml(html)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    if landscape:
        printer.setPageOrientation(QPageLayout.Orientation.Landscape)
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
