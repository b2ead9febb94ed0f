"""Load test: Locust (bench/locustfile.py), headless on loopback, against `kepu serve` with 1 and 2 workers.

For each worker count it imports the seed into a fresh data folder, starts the service,
then runs Locust for each number of users for a fixed time, and prints one Markdown row
per run: requests/s, p50/p95/p99 latency (ms) and the error count, over all requests.

With --writes, another process imports and reindexes in a loop during each run (`kepu
import --replace` with alternate copies of the seed and of a second edition, `kepu
reindex`; bench/consistency.py), and a checker samples every serving process meanwhile:
search's task totals beside /api/v1/tasks', and result lists for records answered twice.
The row then says how many pairs were judged (no write within the settle time), how soon
they agreed after a write, and the violations (listed on stderr; exit status 1).
--stores postgres uses a fresh database on KEPU_TEST_POSTGRES_URL's server; --replicas 2
serves from two processes, each with its own index folder (the writer shares the first's).

Run (the bench extra installs Locust):
    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/load.py --users 1 8 32 --workers 1 2 --seconds 20
    .venv/bin/python bench/load.py --writes --stores sqlite postgres --users 8 --workers 1 2 --seconds 60
    .venv/bin/python bench/load.py --writes --stores postgres --replicas 2 --users 8 --workers 1 --seconds 60
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
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.consistency import Checker, WriteLoop, judge  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seed" / "2023-work-points.txt"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
BIN = Path(sys.executable).parent
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


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


def run_locust(urls: list[str], users: int, seconds: int, prefix: Path) -> dict[str, float]:
    """One headless Locust run (users spread over the URLs); the aggregated figures from its CSV."""
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
        urls[0],
        "--csv",
        str(prefix),
        "--exit-code-on-error",
        "0",
    ]
    env = {**os.environ, "KEPU_LOAD_HOSTS": " ".join(urls)}
    subprocess.run(command, check=True, capture_output=True, timeout=seconds + 60, env=env)
    with open(f"{prefix}_stats.csv", newline="") as handle:
        total = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    with open(f"{prefix}_failures.csv", newline="") as handle:
        for row in csv.DictReader(handle):  # what failed, on stderr: the table only counts
            sys.stderr.write(f"locust: {row['Occurrences']}× {row['Method']} {row['Name']}: {row['Error']}\n")
    return {
        "requests": float(total["Request Count"]),
        "errors": float(total["Failure Count"]),
        "rps": float(total["Requests/s"]),
        "p50": float(total["50%"]),
        "p95": float(total["95%"]),
        "p99": float(total["99%"]),
    }


@contextmanager
def deployment(
    tmp: Path, *, store: str, workers: int, replicas: int, sync: float | None, admin_url: str, port: int | None
) -> Iterator[tuple[list[str], dict[str, str]]]:
    """The seed in a fresh store, `replicas` serving processes (each its own index folder) with `workers` workers.

    Yields their base URLs and the environment of the first one (a writer sharing its index).
    """
    env = {**os.environ, "KEPU_DATA_DIR": str(tmp / "data"), "KEPU_LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    if sync is not None:
        env["KEPU_INDEX_SYNC_SECONDS"] = str(sync)
    admin = None
    database = f"kepu_loadw_{uuid.uuid4().hex[:12]}"
    if store == "postgres":
        admin = create_engine(
            admin_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        env["DATABASE_URL"] = f"{admin_url.rsplit('/', 1)[0]}/{database}"
    servers: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([str(BIN / "kepu"), "import", str(SEED)], env=env, check=True, capture_output=True)
        envs = [env] + [{**env, "KEPU_INDEX_DIR": str(tmp / f"index-{n}")} for n in range(2, replicas + 1)]
        urls = []
        for n, replica_env in enumerate(envs):
            replica_port = port + n if port else _free_port()
            urls.append(f"http://127.0.0.1:{replica_port}")
            command = [str(BIN / "kepu"), "serve", "--port", str(replica_port), "--workers", str(workers)]
            with (tmp / f"serve-{n + 1}.log").open("w") as log:
                servers.append(subprocess.Popen(command, env=replica_env, stdout=log, stderr=subprocess.STDOUT))
        for url, server in zip(urls, servers, strict=True):
            _wait_ready(url, server)
        yield urls, env
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        for log_path in sorted(tmp.glob("serve-*.log")):  # the servers' complaints (WARNING and up), if any
            lines = log_path.read_text(errors="replace").splitlines()
            for line in [line for line in lines if "secret" not in line.lower()][:40]:
                sys.stderr.write(f"{log_path.name}: {line}\n")
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            admin.dispose()


def main() -> None:
    """Parse arguments, run every combination, print a Markdown table (and the violations, with --writes)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--stores", nargs="+", choices=["sqlite", "postgres"], default=["sqlite"])
    parser.add_argument("--replicas", type=int, default=1, help="serving processes, each with its own index folder")
    parser.add_argument("--database-url", default=os.environ.get("KEPU_TEST_POSTGRES_URL", DEFAULT_POSTGRES))
    parser.add_argument("--port", type=int, default=None, help="first port to serve on (default: free ones)")
    writes = parser.add_argument_group("writes", "imports and reindexes in a loop, and a consistency check")
    writes.add_argument("--writes", action="store_true", help="loop writes and check consistency during each run")
    writes.add_argument("--sync", type=float, default=1.0, help="KEPU_INDEX_SYNC_SECONDS of the servers")
    writes.add_argument("--pause", type=float, default=4.0, help="seconds between two writes")
    writes.add_argument("--settle", type=float, default=None, help="seconds after a write to agree (sync + 1)")
    args = parser.parse_args()
    settle = args.settle if args.settle is not None else args.sync + 1
    head = "| store | workers | replicas | users | requests | req/s | p50 ms | p95 ms | p99 ms | errors |"
    rule = "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    if args.writes:
        head += " writes | pairs judged / sampled | disagreed while writing | agreed after p50 / max s | violations |"
        rule += " ---: | ---: | ---: | ---: | ---: |"
    print(head)
    print(rule, flush=True)
    problems: list[str] = []
    for store in args.stores:
        for workers in args.workers:
            with (
                tempfile.TemporaryDirectory(prefix="kepu-load-") as tmp,
                deployment(
                    Path(tmp),
                    store=store,
                    workers=workers,
                    replicas=args.replicas,
                    sync=args.sync if args.writes else None,
                    admin_url=args.database_url,
                    port=args.port,
                ) as (urls, env),
            ):
                for users in args.users:
                    prefix = Path(tmp) / f"w{workers}-u{users}"
                    row = f"| {store} | {workers} | {args.replicas} | {users} "
                    if not args.writes:
                        r = run_locust(urls, users, args.seconds, prefix)
                        print(row + _figures(r), flush=True)
                        continue
                    loop = WriteLoop(env, Path(tmp) / f"editions-u{users}", args.pause)
                    checker = Checker(urls)
                    loop.start()
                    checker.start()
                    try:
                        r = run_locust(urls, users, args.seconds, prefix)
                    finally:
                        loop.stop()
                        time.sleep(settle)  # let the last write settle before the last samples
                        checker.stop()
                    v = judge(loop.writes, checker.samples, settle)
                    lag = f"{v.lag_p50} / {v.lag_max}" if v.lag_p50 is not None else "–"
                    print(
                        row + _figures(r) + f" {v.writes} ({v.failed_writes} failed) | {v.judged} / {v.pairs} "
                        f"| {v.disagreed_while_writing} | {lag} | {len(v.violations)} |",
                        flush=True,
                    )
                    problems += [f"{store} w{workers} u{users}: {p}" for p in v.violations + loop.failures]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        raise SystemExit(1)


def _figures(r: dict[str, float]) -> str:
    return f"| {r['requests']:.0f} | {r['rps']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} | {r['errors']:.0f} |"


if __name__ == "__main__":
    main()
