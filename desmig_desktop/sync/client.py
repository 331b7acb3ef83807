"""The HTTP side of sync: one ``requests.Session`` with urllib3 ``Retry``, gzip bodies, typed errors.

Retries here are transport-level (connect errors, lost responses, 429/5xx) and safe for POST
because a push is idempotent (the server skips replayed op_seqs with the same hash). The outer
scheduler (``scheduler.py``) decides when to try again after a whole cycle failed.
"""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ReadTimeoutError
from urllib3.util.retry import Retry

from desmig_desktop import __version__
from desmig_desktop.domain import jsontext
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.wire import ProtocolError
from desmig_desktop.sync.errors import ErrorKind, SyncError, device_mismatch_error
from desmig_desktop.sync.protocol import (
    Hello,
    LostPage,
    PullPage,
    PushReply,
    Registration,
    ResolutionsPage,
    ScopesPage,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

TIMEOUT = (10, 120)  # (connect, read) seconds, DESIGN §4
RETRY_STATUSES = (429, 500, 502, 503, 504)
BACKOFF_ENV = "DESMIG_SYNC_RETRY_BACKOFF"
VERSION_HEADER = "X-Desmig-App-Version"  # below HQ's minimum, push and pull answer 426  # seconds factor; tests make retries fast


RETRY_AFTER_CAP_S = 60.0


class CappedRetry(Retry):
    """``Retry`` that honours a server's ``Retry-After`` but never sleeps longer than a minute
    inside one request (the scheduler owns long waits; the GUI must stay responsive to cancel)."""

    def get_retry_after(self, response: Any) -> float | None:
        value = super().get_retry_after(response)
        return None if value is None else min(value, RETRY_AFTER_CAP_S)


def make_retry(backoff_factor: float | None = None, *, statuses: tuple[int, ...] = RETRY_STATUSES,
               retry_after: bool = True) -> Retry:
    """Transport retries: connect errors, read errors (lost responses) and 429/5xx, for every
    method (``allowed_methods=None``: safe only because push is idempotent)."""
    if backoff_factor is None:
        backoff_factor = float(os.environ.get(BACKOFF_ENV, "0.5"))
    return CappedRetry(total=6, connect=4, read=2, status=3, other=1, backoff_factor=backoff_factor,
                       backoff_max=30, status_forcelist=statuses, allowed_methods=None,
                       respect_retry_after_header=retry_after, raise_on_status=False)


def _caused_by_read_timeout(exc: BaseException) -> bool:
    """requests reports "read timed out on every retry" as a ConnectionError around urllib3's
    MaxRetryError; dig out the reason so a slow server is told apart from an unreachable one."""
    return any(isinstance(arg, MaxRetryError) and isinstance(arg.reason, ReadTimeoutError) for arg in exc.args)


CA_BUNDLE_ENV = "DESMIG_CA_BUNDLE"


def make_session(retry: Retry | None = None, adapter: HTTPAdapter | None = None) -> requests.Session:
    """The one session of a client; ``adapter`` lets tests inject a fault-injecting transport."""
    session = requests.Session()
    mounted = adapter or HTTPAdapter(max_retries=retry or make_retry())
    session.mount("http://", mounted)
    session.mount("https://", mounted)
    session.headers["User-Agent"] = f"desmig/{__version__}"
    session.trust_env = False  # never route officers' data through an environment proxy by surprise
    ca_bundle = os.environ.get(CA_BUNDLE_ENV)
    if ca_bundle:  # an HQ behind a TLS proxy with the ministry's own CA; certificates are always verified
        if not os.path.isfile(ca_bundle):
            raise FileNotFoundError(f"{CA_BUNDLE_ENV} does not name a file")
        session.verify = ca_bundle
    return session


GZIP_LEVEL = 5


def _gzip_json(payload: Any) -> bytes:
    return gzip.compress(jsontext.compact(payload), compresslevel=GZIP_LEVEL)


def _error_body(resp: requests.Response) -> tuple[str | None, dict[str, Any]]:
    try:
        body = resp.json()
    except ValueError:
        return None, {}
    if not isinstance(body, dict):
        return None, {}
    detail = body.get("detail")
    flat = dict(detail) if isinstance(detail, dict) else {}
    code = body.get("error") or body.get("code") or flat.get("error")
    return (str(code) if code else None), flat


class SyncClient:
    """Calls the four sync endpoints. Raises ``SyncError`` (with a kind) for every failure."""

    def __init__(self, base_url: str, token: str | None = None, *, session: requests.Session | None = None,
                 timeout: tuple[float, float] = TIMEOUT, app_version: str = __version__) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.token = token
        self.session = session or make_session()
        self.timeout = timeout
        self.app_version = app_version

    def close(self) -> None:
        self.session.close()

    # -- endpoints --------------------------------------------------------------------------
    def register(self, username: str, password: str, device_name: str, *,
                 device_id: str | None = None, lineage: dict[str, Any] | None = None) -> Registration:
        """Exchange the password for a device token. Not retried on 429: that is a login lockout,
        and repeating a password the server just refused would only extend it. ``device_id``:
        log in again as that (unrevoked) device of the user, which keeps its op log; ``lineage``:
        this laptop database (``store.sync_restore.lineage_claim``, the server's ``auth.lineage``)."""
        payload: dict[str, Any] = {"username": username, "password": password, "device_name": device_name}
        if device_id:
            payload["device_id"] = device_id
        if lineage:
            payload["lineage"] = lineage
        with make_session(make_retry(statuses=(500, 502, 503, 504), retry_after=False)) as session:
            body = self._call("POST", "v1/devices/register", payload, auth=False, session=session)
        return self._parse(Registration.parse, body)

    def device_watermarks(self) -> dict[str, int]:
        """``last_op_seq`` of each of the caller's devices (revoked ones too), by device id."""
        body = self._call("GET", "v1/devices")
        return self._parse(lambda b: {str(d["device_id"]): int(d["last_op_seq"]) for d in b["devices"]}, body)

    def rotate(self) -> Registration:
        """A fresh token for this device (the old one works until the new one is first used)."""
        return self._parse(Registration.parse, self._call("POST", "v1/devices/rotate", {}))

    def revoke(self) -> None:
        """Revoke this device's token on the server (logout)."""
        self._call("POST", "v1/devices/revoke", {})

    def hello(self) -> Hello:
        return self._parse(Hello.parse, self._call("GET", "v1/sync/hello"))

    def questionnaire(self) -> dict[str, Any]:
        """The questionnaire document HQ publishes now (``GET /v1/questionnaire``), parsed JSON;
        checking it is the caller's (``store.questionnaire_store``)."""
        return self._parse(lambda b: b, self._call("GET", "v1/questionnaire"))

    @staticmethod
    def push_body(device_id: str, app_schema: int, ops: list[dict[str, Any]]) -> bytes:
        """The gzipped JSON request body of a push."""
        return SyncClient.push_body_text(device_id, app_schema, [jsontext.compact(op) for op in ops])

    @staticmethod
    def push_body_text(device_id: str, app_schema: int, ops: list[bytes]) -> bytes:
        """``push_body`` of ops already written as JSON (``OutboxOp.wire_text``; built ahead of
        sending by the engine)."""
        # ``compact``: plain "ok" results answered as runs (an older server ignores it, answers in full)
        rest = jsontext.compact({"device_id": device_id, "app_schema": app_schema, "compact": True})
        return gzip.compress(b'{"ops":[' + b",".join(ops) + b"]," + rest[1:], compresslevel=GZIP_LEVEL)

    def push(self, device_id: str, app_schema: int, ops: list[dict[str, Any]] | None = None, *,
             body: bytes | None = None) -> PushReply:
        """Send ``ops`` — or ``body``, a ``push_body`` already built — and parse the reply."""
        encoded = body if body is not None else self.push_body(device_id, app_schema, ops or [])
        return self._parse(PushReply.parse, self._call("POST", "v1/sync/push", encoded=encoded))

    def pull(self, scope: str, since: int, limit: int, own: tuple[int, int] | None = None) -> PullPage:
        """One page of one scope. ``own``: the window ``(after, through]`` of this device's op
        numbers (server numbering) whose answers it applied — their versions are left out."""
        params: dict[str, Any] = {"scope": scope, "since": since, "limit": limit}
        if own is not None:
            params.update(own_after=own[0], own_through=own[1])
        return self._parse(PullPage.parse, self._call("GET", "v1/sync/pull", params=params))

    def pull_scopes(self, cursors: Sequence[tuple[str, int]], limit: int,
                    own: tuple[int, int] | None = None) -> ScopesPage:
        """One page of several scopes (``GET /v1/sync/changes``, a server with feature ``changes``)."""
        params: dict[str, Any] = {"cursors": ",".join(f"{s}:{c}" for s, c in cursors), "limit": limit}
        if own is not None:
            params.update(own_after=own[0], own_through=own[1])
        return self._parse(ScopesPage.parse, self._call("GET", "v1/sync/changes", params=params))

    def resolutions(self, since: int, limit: int) -> ResolutionsPage:
        """A page of the conflicts this device lost that were resolved after resolution ``since``."""
        body = self._call("GET", "v1/sync/resolutions", params={"since": since, "limit": limit})
        return self._parse(ResolutionsPage.parse, body)

    def lost_values(self, since: int, limit: int, base: int) -> LostPage:
        """A page of the values this device lost after conflict id ``since`` (``base``: local numbering)."""
        body = self._call("GET", "v1/sync/conflicts", params={"since": since, "limit": limit})
        return self._parse(lambda b: LostPage.parse(b, base), body)

    def download(self, path: str, part: Path, *, size: int, progress: Callable[[int, int], bool] | None = None) -> None:
        """Fetch ``path`` into the file ``part``, continuing after the bytes it already holds.

        Resumes with ``Range: bytes=N-`` (a 206 is appended; a 200 means the server sent the
        whole file, which replaces the part). Never writes more than ``size`` + 1 bytes, so an
        endless or padded answer cannot fill the disk (one byte over is kept for the size check
        to see); returns early when ``progress(done, size)`` returns False (cancel). Raises
        ``SyncError``: ``NETWORK`` when the connection broke (the bytes received stay in
        ``part``: call again to resume), else as the other endpoints.
        """
        have = part.stat().st_size if part.exists() else 0
        if have > size:
            part.unlink()
            have = 0
        if have == size:
            return
        headers = {"Accept-Encoding": "identity", VERSION_HEADER: self.app_version,
                   "Authorization": f"Bearer {self.token}"}
        if have:
            headers["Range"] = f"bytes={have}-"
        url = urljoin(self.base_url, path.lstrip("/"))
        try:
            with self.session.get(url, headers=headers, timeout=self.timeout, stream=True) as resp:
                if resp.status_code not in (200, 206):
                    raise self._http_error(path, resp)
                if resp.status_code == 206 and not resp.headers.get("Content-Range", "").startswith(f"bytes {have}-"):
                    raise SyncError(ErrorKind.SERVER, detail=f"{path}: unexpected Content-Range")
                if resp.status_code == 200:
                    have = 0
                with part.open("r+b" if have else "wb") as f:
                    f.seek(have)
                    f.truncate()
                    for block in resp.iter_content(64 * 1024):
                        block = block[:size + 1 - have]
                        f.write(block)
                        have += len(block)
                        if have > size or (progress is not None and not progress(have, size)):
                            break
                    f.flush()
                    os.fsync(f.fileno())
        except requests.exceptions.RequestException as exc:
            raise SyncError(ErrorKind.NETWORK, detail=f"{path}: {type(exc).__name__} after {have} bytes",
                            timeout=isinstance(exc, requests.exceptions.Timeout)) from exc

    # -- plumbing ---------------------------------------------------------------------------
    @staticmethod
    def _parse(parser: Callable[[dict[str, Any]], T], body: Any) -> T:
        try:
            if not isinstance(body, dict):
                raise ProtocolError("reply is not a JSON object")
            return parser(body)
        except (ProtocolError, KeyError, TypeError) as exc:
            raise SyncError(ErrorKind.SERVER, detail=f"unexpected reply: {exc}") from exc

    def _call(self, method: str, path: str, payload: Any = None, *, params: dict[str, Any] | None = None,
              auth: bool = True, session: requests.Session | None = None, encoded: bytes | None = None) -> Any:
        headers = {"Accept": "application/json", VERSION_HEADER: self.app_version}
        data = encoded if encoded is not None else None if payload is None else _gzip_json(payload)
        if data is not None:
            headers.update({"Content-Type": "application/json", "Content-Encoding": "gzip"})
        if auth:
            if not self.token:
                raise SyncError(ErrorKind.AUTH, detail="no token")
            headers["Authorization"] = f"Bearer {self.token}"
        url = urljoin(self.base_url, path)
        try:
            resp = (session or self.session).request(method, url, data=data, params=params, headers=headers, timeout=self.timeout)
        except requests.exceptions.ConnectTimeout as exc:
            raise SyncError(ErrorKind.NETWORK, detail=f"{path}: connect timeout", unreachable=True) from exc
        except requests.exceptions.Timeout as exc:
            raise SyncError(ErrorKind.NETWORK, detail=f"{path}: read timeout", timeout=True) from exc
        except requests.exceptions.ConnectionError as exc:
            if _caused_by_read_timeout(exc):
                raise SyncError(ErrorKind.NETWORK, detail=f"{path}: read timeout", timeout=True) from exc
            unreachable = "NewConnectionError" in repr(exc) or "Failed to resolve" in repr(exc)
            raise SyncError(ErrorKind.NETWORK, detail=f"{path}: {type(exc).__name__}",
                            unreachable=unreachable) from exc
        except requests.exceptions.RequestException as exc:
            raise SyncError(ErrorKind.NETWORK, detail=f"{path}: {type(exc).__name__}") from exc
        if resp.status_code == 200:
            try:
                return jsontext.loads(resp.content)
            except ValueError as exc:
                raise SyncError(ErrorKind.SERVER, detail=f"{path}: reply is not JSON", status=200) from exc
        raise self._http_error(path, resp)

    @staticmethod
    def _http_error(path: str, resp: requests.Response) -> SyncError:
        status = resp.status_code
        code, detail = _error_body(resp)
        where = f"{path}: HTTP {status} {code or ''}".strip()
        if path.endswith("register") and status in (400, 401, 422):
            return SyncError(ErrorKind.AUTH, _("Nama pengguna atau kata sandi salah."), detail=where,
                             status=status, code=code)
        if path.endswith("register") and status == 429:
            return SyncError(ErrorKind.AUTH, _("Terlalu banyak percobaan masuk yang gagal. Coba lagi nanti."),
                             detail=where, status=status, code=code)
        if status == 401:
            return SyncError(ErrorKind.AUTH, detail=where, status=status, code=code)
        if status == 403:
            return SyncError(ErrorKind.AUTH, _(
                "Akun ini tidak berhak atas salah satu desa dalam data yang dikirim. Hubungi supervisor."),
                detail=where, status=status, code=code)
        if status == 426:
            return SyncError(ErrorKind.TOO_OLD, detail=where, status=status, code=code)
        if status == 413:
            return SyncError(ErrorKind.SERVER, detail=where, status=status, code=code, too_large=True)
        if status == 409:
            watermark = detail.get("last_op_seq")
            watermark = watermark if isinstance(watermark, int) else None
            if code == "replay_mismatch":
                return device_mismatch_error(where)
            return SyncError(ErrorKind.SERVER, detail=where, status=status, code=code, server_watermark=watermark)
        if status in (400, 422) and code == "unsupported_schema":
            return SyncError(ErrorKind.SERVER, _("Server belum mendukung versi aplikasi ini."), detail=where,
                             status=status, code=code)
        if status == 429 or status >= 500:
            return SyncError(ErrorKind.SERVER, detail=where, status=status, code=code)
        return SyncError(ErrorKind.SERVER, detail=where, status=status, code=code)
