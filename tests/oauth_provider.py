"""An OAuth 2.0 provider for tests, over HTTPS on 127.0.0.1, answering as Microsoft's identity
platform documents its endpoints:

- POST /token (RFC 6749 4.4 and 6): client credentials or a refresh token's grant, the
  client's secret in the form (client_secret_post); a token that lasts `lasts` seconds, or
  {"error": "invalid_grant", "error_description": "AADSTS70000: …"} with HTTP 400 and
  {"error": "invalid_client", …} with HTTP 401, as Entra ID writes them.
- GET /me (Microsoft Graph's): who a bearer token belongs to, {"mail": …}, which Dovecot's
  oauth2 passdb asks (introspection_mode = auth, username_attribute = mail); 401 otherwise.

`grants` counts the tokens given; `revoke()` ends every token given so far; `drip` makes
/token's answer trickle."""

from __future__ import annotations

import json
import secrets
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self
from urllib.parse import parse_qs


class Provider:
    def __init__(
        self,
        certificate: Path,
        key: Path,
        user: str,
        client_id: str = "3f0c1d5e-newsletter",
        client_secret: str = "s3cr3t~Q8",
        refresh_token: str = "",
        lasts: int = 3599,
    ):
        self.user, self.client_id, self.client_secret = user, client_id, client_secret
        self.refresh_token, self.lasts = refresh_token, lasts
        self.tokens: set[str] = set()
        self.forms: list[dict[str, str]] = []
        self.grants = 0
        self.answer: tuple[int, bytes | dict] | None = None  # set: /token answers this
        self.headers: dict[str, str] = {}  # and these headers with it
        self.drip = 0.0  # set: the answer's body comes a byte every `drip` seconds
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Self:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()

    def revoke(self) -> None:
        self.tokens.clear()

    def grant(self, form: dict[str, str]) -> tuple[int, dict]:
        self.forms.append(form)
        if self.answer:
            return self.answer
        if form.get("client_id") != self.client_id or (
            form.get("client_secret") != self.client_secret
        ):
            return 401, {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided.",
                "error_codes": [7000215],
            }
        grant = form.get("grant_type")
        if grant == "refresh_token" and form.get("refresh_token") != self.refresh_token:
            return 400, {
                "error": "invalid_grant",
                "error_description": "AADSTS70000: The provided value for 'refresh_token' is "
                "not valid. Trace ID: 5b7f7c1a-0000 Correlation ID: 9e0c Timestamp: 2026-12-07",
                "error_codes": [70000],
            }
        if grant not in ("refresh_token", "client_credentials"):
            return 400, {"error": "unsupported_grant_type"}
        token = "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(600)  # as long as Entra's
        self.tokens.add(token)
        self.grants += 1
        return 200, {"token_type": "Bearer", "expires_in": self.lasts, "access_token": token}


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if self.path != "/token":
                return self._reply(404, {"error": "not_found"})
            self._reply(*provider.grant(form))

        def do_GET(self) -> None:
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            if self.path != "/me" or token not in provider.tokens:
                return self._reply(401, {"error": {"code": "InvalidAuthenticationToken"}})
            self._reply(200, {"mail": provider.user, "displayName": "Bounces"})

        def _reply(self, status: int, body) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in provider.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if not provider.drip:
                return self.wfile.write(data)
            for byte in data:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(provider.drip)

    return Handler
