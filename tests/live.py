"""Start the real service in a subprocess, as a person would, and wait until it is ready."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

KEPU = [sys.executable, "-m", "app"]


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(
    env: dict[str, str], log_path: Path, *args: str, ready_within: float = 60, port: int | None = None
) -> Iterator[str]:
    """`kepu serve` on `port` (a free one by default); yields its base URL once /readyz answers 200, stops it after."""
    port = port or free_port()
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [*KEPU, "serve", "--port", str(port), *args], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + ready_within
            while True:
                try:
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
                time.sleep(0.3)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)
