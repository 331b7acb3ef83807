"""Security headers on every response (a pure ASGI middleware, so error replies get them too).

Headers an inner layer already set win (the web dashboard may send its own CSP or caching), so
this only fills gaps:

* ``X-Content-Type-Options: nosniff`` — a JSON body is never sniffed into HTML or script;
* ``Referrer-Policy: no-referrer`` and ``X-Frame-Options: DENY`` (with CSP ``frame-ancestors``);
* ``Cache-Control: no-store`` on JSON — API replies carry personal data and must not linger in
  a proxy or browser cache (reference data revalidates with its ETag all the same);
* ``Content-Security-Policy``: ``default-src 'none'`` for JSON (nothing to load), a restrictive
  same-origin policy for HTML;
* ``Strict-Transport-Security`` when the request arrived over HTTPS (behind a TLS-terminating
  proxy run uvicorn with ``--proxy-headers`` so it knows; the proxy should set HSTS as well).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HTML_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
HSTS = "max-age=31536000; includeSubDomains"

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def headers_for(content_type: str, https: bool) -> dict[str, str]:
    """The security headers for a response of ``content_type`` (before inner-layer overrides)."""
    out = dict(ALWAYS)
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "text/html":
        out["Content-Security-Policy"] = HTML_CSP
    else:
        out["Content-Security-Policy"] = JSON_CSP
        if media == "application/json" or media.endswith("+json"):
            out["Cache-Control"] = "no-store"
    if https:
        out["Strict-Transport-Security"] = HSTS
    return out


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in headers_for(headers.get("content-type", ""), https).items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
