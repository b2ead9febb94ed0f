"""Uvicorn wiring: a protocol that accepts raw UTF-8 in the request line.

`curl 'http://host/api/v1/tasks?department=科协'` sends the Chinese bytes unencoded;
both of uvicorn's HTTP parsers reject that as an invalid request. Browsers
percent-encode, so we do what a browser does before the parser sees the line.
"""

from __future__ import annotations

import re

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_REQUEST_LINE = re.compile(rb"(?m)^([A-Z]{3,10} )(\S+)( HTTP/1\.[01]\r?)$")
_NON_ASCII = re.compile(rb"[\x80-\xff]")


def percent_encode_request_lines(data: bytes) -> bytes:
    """Percent-encode non-ASCII bytes in request targets, leaving all else as it is."""
    if not _NON_ASCII.search(data):
        return data
    return _REQUEST_LINE.sub(
        lambda m: m.group(1) + _NON_ASCII.sub(lambda b: b"%%%02X" % b.group(0)[0], m.group(2)) + m.group(3), data
    )


class TolerantHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that takes unencoded UTF-8 request targets."""

    def data_received(self, data: bytes) -> None:
        """Encode the request line, then parse as usual."""
        super().data_received(percent_encode_request_lines(data))


HTTP_PROTOCOL = "app.server:TolerantHttpToolsProtocol"
