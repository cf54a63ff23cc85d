"""Inbound webhooks per second against the database's own speed (issue 8).

Serves the app with gunicorn as the Procfile runs it (2 workers) on PostgreSQL, and posts
correctly signed Twilio messaging webhooks to ``/twilio/inbound`` from a pool of contacts (a
quarter STOP, a quarter START, the rest ordinary text; every one a new MessageSid). In the same
gunicorn and the same run it measures two ceilings with the same load: ``/bench/insert`` stores
each webhook with one INSERT in its own transaction (the durable ceiling) and ``/bench/noop``
parses it and answers (the HTTP ceiling). Rounds of the three alternate, so a busy neighbour on
the machine slows all three alike; the median round of each is printed, and the ratio (also
as the median of each round's own ratio, steadier on a busy machine).

    createdb -h 127.0.0.1 -U postgres bench
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/inbound.py [N] [ROUNDS]

The database's ``public`` schema is dropped first.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from redis import Redis
from sqlalchemy import text
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import free_port, reset_database  # noqa: E402

from adapter.db import make_engine  # noqa: E402

TOKEN = "bench-auth-token"
# Prime to the four words, so each contact texts STOP, text, START, text in turn.
CONTACTS = 499
CONCURRENCY = 32
WORKERS = 2


def reset(url: str) -> None:
    reset_database(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE bench_inbound (id serial PRIMARY KEY, sid varchar(64) UNIQUE,"
                " sender varchar(20), body text, created_on timestamptz DEFAULT now())"
            )
        )
    engine.dispose()


def forms(count: int, start: int) -> list[dict[str, str]]:
    """``count`` webhooks: a quarter STOP, a quarter START, the rest text, round the contacts."""
    words = ["STOP", "hello there", "START", "see you at nine"]
    return [
        {
            "MessageSid": f"SM{start + i:032d}",
            "AccountSid": "AC" + "b" * 32,
            "From": f"+1415555{1000 + i % CONTACTS:04d}",
            "To": "+14155550199",
            "Body": words[i % 4],
            "NumMedia": "0",
        }
        for i in range(count)
    ]


def signed(base: str, path: str, batch: list[dict[str, str]]) -> list[tuple[bytes, str]]:
    validator = RequestValidator(TOKEN)
    return [
        (urlencode(form).encode(), validator.compute_signature(base + path, form)) for form in batch
    ]


async def load(url: str, requests: list[tuple[bytes, str]]) -> float:
    """Post every request with CONCURRENCY connections; requests per second."""
    queue = iter(requests)
    failures: list[int] = []

    async def client(session: aiohttp.ClientSession) -> None:
        for body, signature in queue:
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            }
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status >= 300:
                    failures.append(response.status)

    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(CONCURRENCY)))
        seconds = time.perf_counter() - start
    if failures:
        raise SystemExit(f"{len(failures)} requests to {url} failed, e.g. {failures[:5]}")
    return len(requests) / seconds


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        raise SystemExit("set BENCH_DATABASE_URL to a PostgreSQL database this may wipe")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    per_round = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    reset(url)
    Redis.from_url(redis_url).flushdb()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")},
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": base,
        "TWILIO_ACCOUNT_SID": "AC" + "b" * 32,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM": "+14155550199",
        "LOG_LEVEL": "WARNING",
    }
    # As the Procfile runs it (access log included), with the bench routes added.
    web = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            *("-w", str(WORKERS), "--bind", f"127.0.0.1:{port}", "--access-logfile", "-"),
            "bench.inbound_app:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        figures: dict[str, list[float]] = {"inbound": [], "insert": [], "noop": []}
        paths = {"inbound": "/twilio/inbound", "insert": "/bench/insert", "noop": "/bench/noop"}
        sid = 0
        # A warm-up round creates the contacts, so rounds measure the steady state.
        asyncio.run(load(base + paths["inbound"], signed(base, paths["inbound"], forms(600, 0))))
        sid += 10_000
        for number in range(rounds):
            for name, path in paths.items():
                batch = signed(base, path, forms(per_round, sid))
                sid += per_round
                figures[name].append(asyncio.run(load(base + path, batch)))
            print(
                f"round {number + 1}: "
                + ", ".join(f"{k} {v[-1]:.0f}/s" for k, v in figures.items())
            )
        inbound, insert, noop = (
            statistics.median(figures[k]) for k in ("inbound", "insert", "noop")
        )
        print(f"inbound webhooks:               {inbound:7.0f}/s")
        print(f"ceiling, one INSERT per request: {insert:7.0f}/s")
        print(f"ceiling, no database:            {noop:7.0f}/s")
        ratios = [i / c for i, c in zip(figures["inbound"], figures["insert"], strict=True)]
        print(f"inbound / one-INSERT ceiling:    {inbound / insert:7.0%}")
        print(f"  the same, median of the rounds: {statistics.median(ratios):7.0%}")
    finally:
        web.terminate()
        web.wait(timeout=30)


if __name__ == "__main__":
    main()
