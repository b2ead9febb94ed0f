"""Load test: Locust (bench/locustfile.py), headless on loopback, against `kepu serve` with 1 and 2 workers.

For each worker count it imports the seed into a fresh data folder, starts the service,
then runs Locust for each number of users for a fixed time, and prints one Markdown row
per run: requests/s, p50/p95/p99 latency (ms) and the error count, over all requests.

Run (the bench extra installs Locust):
    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/load.py --users 1 8 32 --workers 1 2 --seconds 20
"""

from __future__ import annotations

import argparse
import csv
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seed" / "2023-work-points.txt"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, server: subprocess.Popen[bytes], within: float = 300) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"kepu serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("kepu serve did not become ready")


def run_locust(url: str, users: int, seconds: int, prefix: Path) -> dict[str, float]:
    """One headless Locust run; the aggregated figures from its CSV."""
    command = [
        str(BIN / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--only-summary",
        "-u",
        str(users),
        "-r",
        str(users),
        "-t",
        f"{seconds}s",
        "--host",
        url,
        "--csv",
        str(prefix),
        "--exit-code-on-error",
        "0",
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=seconds + 60)
    with open(f"{prefix}_stats.csv", newline="") as handle:
        total = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    return {
        "requests": float(total["Request Count"]),
        "errors": float(total["Failure Count"]),
        "rps": float(total["Requests/s"]),
        "p50": float(total["50%"]),
        "p95": float(total["95%"]),
        "p99": float(total["99%"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    print("| workers | users | requests | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for workers in args.workers:
        with tempfile.TemporaryDirectory(prefix="kepu-load-") as tmp:
            env = {**os.environ, "KEPU_DATA_DIR": str(Path(tmp) / "data"), "KEPU_LOG_LEVEL": "WARNING"}
            env.pop("DATABASE_URL", None)
            subprocess.run([str(BIN / "kepu"), "import", str(SEED)], env=env, check=True, capture_output=True)
            port = _free_port()
            url = f"http://127.0.0.1:{port}"
            server = subprocess.Popen(
                [str(BIN / "kepu"), "serve", "--port", str(port), "--workers", str(workers)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                _wait_ready(url, server)
                for users in args.users:
                    r = run_locust(url, users, args.seconds, Path(tmp) / f"w{workers}-u{users}")
                    print(
                        f"| {workers} | {users} | {r['requests']:.0f} | {r['rps']:.1f} | {r['p50']:.0f} "
                        f"| {r['p95']:.0f} | {r['p99']:.0f} | {r['errors']:.0f} |",
                        flush=True,
                    )
            finally:
                server.terminate()
                server.wait(timeout=30)


if __name__ == "__main__":
    main()
