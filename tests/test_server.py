"""Raw UTF-8 request targets (as curl sends them) are percent-encoded before parsing."""

from __future__ import annotations

from urllib.parse import unquote

from app.server import percent_encode_request_lines


def test_non_ascii_target_is_encoded() -> None:
    raw = "GET /api/v1/tasks?department=科协&role=lead HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    encoded = percent_encode_request_lines(raw)
    line = encoded.split(b"\r\n", 1)[0]
    assert line.isascii()
    assert unquote(line.decode()) == "GET /api/v1/tasks?department=科协&role=lead HTTP/1.1"


def test_headers_and_ascii_requests_are_untouched() -> None:
    ascii_request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    assert percent_encode_request_lines(ascii_request) is ascii_request
    body = "POST /x HTTP/1.1\r\nContent-Length: 6\r\n\r\n科协".encode()
    assert percent_encode_request_lines(body).endswith("科协".encode())
