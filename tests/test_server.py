"""The served HTTP/1.1 stream: exactly one response per request, whatever the bytes.

These talk raw TCP to a real `kepu serve`, because request smuggling lives below the
application: in how the byte stream is cut into requests.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from .conftest import SEED
from .live import KEPU, serving

STATUS_LINE = re.compile(rb"HTTP/1\.1 (\d{3}) ")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One live server over the seed for the whole module."""
    tmp = tmp_path_factory.mktemp("server")
    env = {**os.environ, "KEPU_DATA_DIR": str(tmp / "data")}
    env.pop("DATABASE_URL", None)
    subprocess.run([*KEPU, "import", str(SEED)], env=env, check=True, capture_output=True, timeout=120)
    with serving(env, tmp / "server.log") as url:
        yield url


def exchange(base_url: str, *chunks: bytes, pause: float = 0.0) -> list[int]:
    """Send the chunks (as separate TCP segments when `pause` > 0); the statuses answered."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for chunk in chunks:
            sock.sendall(chunk)
            if pause:
                time.sleep(pause)
        received = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            received += data
    return [int(code) for code in STATUS_LINE.findall(received)]


def smuggling_body() -> bytes:
    # A body whose second line is a complete request with raw UTF-8 in its target: if
    # anything rewrote body bytes, the body would outgrow its Content-Length and the
    # tail would be read as a second request.
    return "x=1\r\nGET /api/v1/tasks?department=科协 HTTP/1.1\r\nHost: a\r\n\r\n".encode()


@pytest.mark.slow
class TestOneResponsePerRequest:
    def test_body_shaped_like_a_request_line(self, base_url: str) -> None:
        body = smuggling_body()
        request = (
            b"POST /api/v1/search HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)
        ) + body
        closing = b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        assert exchange(base_url, request, closing, pause=0.2) == [405, 200]

    def test_pipelined_requests_with_bodies(self, base_url: str) -> None:
        body = smuggling_body()
        first = (b"POST /api/v1/search HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
        second = b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        assert exchange(base_url, first + second) == [405, 200]

    def test_body_split_across_segments(self, base_url: str) -> None:
        body = smuggling_body()
        head = b"POST /api/v1/search HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(body)
        cut = body.index("科".encode()) + 1  # inside a UTF-8 sequence
        closing = b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        assert exchange(base_url, head, body[:cut], body[cut:], closing, pause=0.05) == [405, 200]

    def test_raw_utf8_request_target_is_a_clean_400(self, base_url: str) -> None:
        # Clients must percent-encode (every HTTP library and browser does); the server
        # answers a raw target with one 400 and never rewrites the stream to accept it.
        request = "GET /api/v1/tasks?department=科协 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".encode()
        assert exchange(base_url, request) == [400]

    def test_percent_encoded_target_works(self, base_url: str) -> None:
        request = b"GET /api/v1/tasks?department=%E7%A7%91%E5%8D%8F HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        assert exchange(base_url, request) == [200]


@pytest.mark.slow
class TestLimits:
    def test_headers_over_the_limit_are_a_431(self, base_url: str) -> None:
        big = b"X-Filler: " + b"a" * 20_000 + b"\r\n"  # KEPU_MAX_HEADER_BYTES is 16384
        request = b"GET /healthz HTTP/1.1\r\nHost: a\r\n" + big + b"Connection: close\r\n\r\n"
        assert exchange(base_url, request) == [431]

    def test_headers_under_the_limit_are_answered(self, base_url: str) -> None:
        fair = b"X-Filler: " + b"a" * 8_000 + b"\r\n"
        request = b"GET /healthz HTTP/1.1\r\nHost: a\r\n" + fair + b"Connection: close\r\n\r\n"
        assert exchange(base_url, request) == [200]

    def test_head_sends_no_body_on_a_kept_alive_connection(self, base_url: str) -> None:
        # A body after a HEAD's headers would be read as the start of the next response.
        head = b"HEAD /api/v1/tasks?limit=3 HTTP/1.1\r\nHost: a\r\n\r\n"
        closing = b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        assert exchange(base_url, head + closing) == [200, 200]
