"""What can go wrong in a sync, as a kind the GUI can act on and a message an officer understands."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError

if TYPE_CHECKING:
    from desmig_desktop.sync.engine import CycleReport


class ErrorKind(Enum):
    """Why a sync did not finish (or, for ``REJECTED``, finished with records to fix).

    The GUI decides from the kind alone: ``AUTH`` → show the login dialog; ``TOO_OLD`` → ask for
    an update and stop syncing; ``NETWORK``/``SERVER`` → retry later with backoff; ``REJECTED``
    → point at the conflicts inbox.
    """

    AUTH = "auth"
    NETWORK = "network"
    SERVER = "server"
    REJECTED = "rejected"
    TOO_OLD = "too_old"

    def message(self) -> str:
        """The plain-words explanation for the status bar (translated)."""
        return {
            ErrorKind.AUTH: _("Sesi masuk sudah tidak berlaku. Silakan masuk lagi."),
            ErrorKind.NETWORK: _("Tidak bisa terhubung ke server. Data tetap aman di laptop dan akan"
                                 " dikirim saat sambungan kembali."),
            ErrorKind.SERVER: _("Server sedang bermasalah. Sinkronisasi akan dicoba lagi otomatis."),
            ErrorKind.REJECTED: _("Sebagian data ditolak server. Buka daftar konflik untuk memperbaikinya."),
            ErrorKind.TOO_OLD: _("Versi aplikasi ini sudah terlalu lama. Perbarui aplikasi agar bisa"
                                 " sinkronisasi lagi."),
        }[self]

    @property
    def retry_later(self) -> bool:
        """Whether the scheduler should retry on its own (else it waits for the officer)."""
        return self in (ErrorKind.NETWORK, ErrorKind.SERVER)


class SyncError(KnownError):
    """A sync step failed; ``kind`` says what the officer (or the scheduler) should do.

    Attributes:
        kind: the category.
        detail: a technical one-liner for the log (never personal data).
        status: the HTTP status, when there was a response.
        code: the server's machine code (``gap``, ``replay_mismatch``, ...), when there was one.
        timeout: the request timed out (the engine halves its batch).
        too_large: the server refused the body size (the engine halves its batch).
        unreachable: nothing reached the server (connection refused / DNS), so pulling is pointless too.
        partial: what the cycle had done before failing.
    """

    def __init__(self, kind: ErrorKind, message: str | None = None, *, detail: str = "", status: int | None = None,
                 code: str | None = None, timeout: bool = False, too_large: bool = False,
                 unreachable: bool = False, server_watermark: int | None = None) -> None:
        super().__init__(message or kind.message())
        self.kind = kind
        self.detail = detail
        self.status = status
        self.code = code
        self.timeout = timeout
        self.too_large = too_large
        self.unreachable = unreachable
        self.server_watermark = server_watermark
        self.partial: CycleReport | None = None

    def __repr__(self) -> str:
        return f"SyncError({self.kind.name}, status={self.status}, code={self.code}, detail={self.detail!r})"


def device_mismatch_error(detail: str) -> SyncError:
    """The server knows this device further than this laptop does: a copied or restored database."""
    return SyncError(ErrorKind.AUTH, _(
        "Data di laptop ini tidak cocok dengan catatan server untuk perangkat ini (salinan atau"
        " cadangan lama). Masuk lagi untuk mendaftarkan laptop ini sebagai perangkat baru."),
        detail=detail, code="device_mismatch")
