"""The sandbox's HTTP plumbing on the standard library: a threading server (IPv4 or IPv6) whose
handler reads each request (Content-Length or chunked) and writes back what the sandbox
answers, with keep-alive as python-gitlab and requests expect."""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from docsgap.sandbox.wire import Response

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    """Whether `host` names a loopback interface."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Handles(Protocol):
    """What the server hands each request to (`Sandbox.handle`)."""

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes
               ) -> Response: ...


class Server(ThreadingHTTPServer):
    """One thread per connection; `sandbox` answers every request."""

    daemon_threads = True
    sandbox: Handles


class Server6(Server):
    """The same on IPv6."""

    address_family = socket.AF_INET6


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 plumbing only: read the request, write the sandbox's response."""

    protocol_version = "HTTP/1.1"  # keep-alive: python-gitlab reuses its session
    server: Server
    timeout = 30

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; with Nagle on, a keep-alive client's
        # delayed ACK stalls every response by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        body = self._body()
        headers = dict(self.headers.items())
        response = self.server.sandbox.handle(self.command, self.path, headers, body)
        if response.delay:
            time.sleep(response.delay)
        if response.disconnect:
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(response.body)
            except OSError:  # the client gave up (timeout faults)
                self.close_connection = True

    def _body(self) -> bytes:
        """The request body, by Content-Length or chunked transfer encoding."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()  # the blank line after the last chunk
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s " + format, self.address_string(), *args)
