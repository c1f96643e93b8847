"""HTTP/1.1 over a bare socket, for what an HTTP client library will not do: declare a body and send only part
of it, or stream a chunked body and never end it — then read the one answer the server gives meanwhile.

A server that waits for the rest of the body never answers: the read times out (``socket.timeout``) and the
test fails.  The timeout is a guard against hanging, never something a test measures."""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

GUARD_SECONDS = 30


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _head(base_url: str, method: str, path: str, headers: dict[str, str]) -> tuple[socket.socket, bytes]:
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    sock = socket.create_connection((host, port), timeout=GUARD_SECONDS)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    return sock, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _answer(sock: socket.socket, method: str) -> Answer:
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    body = response.read()
    return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)


def partial_body(base_url: str, path: str, *, declared: int, sent: bytes, headers: dict[str, str] | None = None,
                 method: str = "POST") -> Answer:
    """Declare ``Content-Length: declared``, send only ``sent`` of it, and read the answer."""
    sock, head = _head(base_url, method, path, {**(headers or {}), "Content-Length": str(declared)})
    with sock:
        sock.sendall(head + sent)
        return _answer(sock, method)


def unending_chunks(base_url: str, path: str, *, chunks: list[bytes], headers: dict[str, str] | None = None,
                    method: str = "POST") -> Answer:
    """Send a chunked body of ``chunks`` without its last (empty) chunk, and read the answer."""
    sock, head = _head(base_url, method, path, {**(headers or {}), "Transfer-Encoding": "chunked"})
    with sock:
        sock.sendall(head)
        for chunk in chunks:
            sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        return _answer(sock, method)


def chunks_of(total: int, size: int = 64 * 1024, byte: bytes = b" ") -> list[bytes]:
    """``total`` bytes as chunks of ``size`` (the last one shorter)."""
    return [byte * min(size, total - start) for start in range(0, total, size)]
