"""The HTTP/1.1 protocol `kepu serve` runs: uvicorn's h11 protocol, answering oversized headers with 431.

h11 bounds the request line plus headers it buffers (`max_incomplete_event_size`, which
uvicorn passes on as `h11_max_incomplete_event_size`) and marks that error with the status
it calls for (`error_status_hint` = 431); uvicorn answers every parse error with 400. This
subclass keeps h11's status, and holds a head that arrived whole in one read (which h11
never counts) to the same limit. httptools, uvicorn's faster default, has no header size
limit to set, so the service runs on h11.
"""

from __future__ import annotations

import logging
from typing import Any

import h11
from h11._connection import DEFAULT_MAX_INCOMPLETE_EVENT_SIZE
from uvicorn.protocols.http.h11_impl import H11Protocol

REASONS = {400: b"Bad Request", 431: b"Request Header Fields Too Large", 501: b"Not Implemented"}
access_log = logging.getLogger("kepu.access")
PROTOCOL = "app.server:KepuH11Protocol"  # how `kepu serve` names it to uvicorn (workers import it)


class KepuH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with h11's own status for a request it cannot parse."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._error_status = 400
        next_event = self.conn.next_event

        limit = self.config.h11_max_incomplete_event_size or DEFAULT_MAX_INCOMPLETE_EVENT_SIZE

        def next_event_noting_status() -> Any:
            try:
                event = next_event()
                # h11 bounds what it buffers of an unfinished head; a whole head that arrived
                # in one read is held to the same limit here.
                if isinstance(event, h11.Request) and _head_size(event) > limit:
                    raise h11.RemoteProtocolError("request head too large", error_status_hint=431)
                return event
            except h11.RemoteProtocolError as exc:
                self._error_status = exc.error_status_hint
                raise

        self.conn.next_event = next_event_noting_status  # type: ignore[method-assign]

    def send_400_response(self, msg: str) -> None:
        """The error response uvicorn sends, with h11's status instead of always 400."""
        status = self._error_status if self._error_status in REASONS else 400
        if status == 431:
            msg = "Request header fields too large."
        access_log.info("request rejected by the HTTP parser", extra={"status": status, "reason": msg})
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
        self.transport.write(self.conn.send(h11.Response(status_code=status, headers=headers, reason=REASONS[status])))
        self.transport.write(self.conn.send(h11.Data(data=msg.encode("ascii"))))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()


def _head_size(request: h11.Request) -> int:
    # The request line and each "name: value" line, as they came (near enough: h11 has
    # already dropped optional white space).
    line = len(request.method) + len(request.target) + 10
    return line + sum(len(name) + len(value) + 4 for name, value in request.headers.raw_items())
