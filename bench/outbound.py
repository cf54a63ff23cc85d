"""Outbound throughput and compliance latency on the real path (issue 7's figures, one run).

API (gunicorn) → PostgreSQL → RQ wake-up → one `flask --app wsgi worker` process → a local Twilio
stub (tests/twilio_stub.py, its own process) answering after a set latency. Prints, measured in
the same run:

1. the ceiling: RQ's own `SimpleWorker` running empty jobs (jobs/s);
2. the adapter's msg/s against a 0 ms stub, and its ratio to that ceiling;
3. msg/s against a 150 ms stub (a real provider API takes 100-300 ms);
4. database commits per message sent, counted inside the worker process
   (bench/counting_worker.py);
5. the STOP confirmation's latency behind a 10,000-message backlog on a 1 msg/s sender, and
   commits per message while that backlog waits.

    createdb -h 127.0.0.1 -U postgres bench7
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench7 \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/outbound.py

The database's `public` schema is dropped and the Redis database emptied.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import requests
from harness import free_port, reset_database
from redis import Redis
from rq import Queue
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench7")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
FAST_MESSAGES = int(os.environ.get("BENCH_MESSAGES", "3000"))
BACKLOG = int(os.environ.get("BENCH_BACKLOG", "10000"))
TOKEN = "bench-auth-token"
ACCOUNT = "AC" + "b" * 32
SENDER = "+14155550199"
# The worker runs as bench/counting_worker.py, which publishes its commit count here.
COMMITS_FILE = Path(tempfile.mkdtemp()) / "commits"
WORKER = [sys.executable, "bench/counting_worker.py"]


def env(stub_url: str, web_port: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": DB_URL,
        "REDIS_URL": REDIS_URL,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM": SENDER,
        "TWILIO_API_BASE_URL": stub_url,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}",
        "TWILIO_SENDS_PER_SECOND": "100000",
        "SEND_CONCURRENCY": "64",
        # A send whose answer is lost is settled (or failed) within the run.
        "SENDING_TIMEOUT_SECONDS": "30",
        "PROVIDER_TIMEOUT_SECONDS": "5",
        "LOG_LEVEL": "WARNING",
        "BENCH_COMMITS_FILE": str(COMMITS_FILE),
        **extra,
    }


@contextmanager
def process(command: list[str], environment: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    proc = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(check, timeout: float = 60.0, step: float = 0.05):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(str(check))


def up(url: str) -> bool:
    try:
        return requests.get(url, timeout=0.5).status_code < 500
    except requests.RequestException:
        return False


def reset() -> None:
    global _engine
    if _engine is not None:
        _engine.dispose()
        _engine = None
    reset_database(DB_URL)
    Redis.from_url(REDIS_URL).flushdb()


# One connection for all of this script's own queries.
_engine = None


def sql(statement: str, **params: object) -> object:
    global _engine
    if _engine is None:
        _engine = create_engine(DB_URL, pool_size=1)
    with _engine.begin() as connection:
        result = connection.execute(text(statement), params)
        value = result.scalar() if result.returns_rows else None
    return value


def api_key() -> str:
    out = subprocess.run(
        [BIN / "flask", "--app", "wsgi", "create-api-key", f"bench-{time.time_ns()}"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": DB_URL, "REDIS_URL": REDIS_URL},
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[0]


def rq_ceiling(jobs: int = 3000) -> float:
    """Empty jobs per second through RQ's SimpleWorker, in a process of its own."""
    redis = Redis.from_url(REDIS_URL)
    queue = Queue("bench-ceiling", connection=redis)
    with redis.pipeline() as pipe:
        for _ in range(jobs):
            queue.enqueue("os.getpid", pipeline=pipe, result_ttl=0)
        pipe.execute()
    with process(
        [
            BIN / "rq",
            "worker",
            "--burst",
            "-w",
            "rq.SimpleWorker",
            "--url",
            REDIS_URL,
            "--logging_level",
            "WARNING",
            "bench-ceiling",
        ]
    ):
        wait_for(lambda: queue.count < jobs, step=0.005)
        start = time.perf_counter()
        started_at = queue.count
        wait_for(lambda: queue.count == 0, timeout=120, step=0.01)
        return started_at / (time.perf_counter() - start)


def post_messages(base: str, key: str, count: int, prefix: str) -> None:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {key}"}

    def one(i: int) -> None:
        response = session.post(
            f"{base}/api/v1/messages",
            json={"to": f"+1415555{i % 10000:04d}", "body": f"{prefix} {i}"},
            headers=headers,
            timeout=30,
        )
        assert response.status_code == 202, response.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(count)))


def worker_commits() -> int:
    """Commits the counting worker has made so far (published every half second)."""
    try:
        return int(COMMITS_FILE.read_text() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def drain_rate(stub_url: str, web_port: int, count: int) -> tuple[float, float]:
    """Start one worker on `count` queued messages; return (msg/s, commits per message)."""
    COMMITS_FILE.write_text("0")
    with process(WORKER, env(stub_url, web_port)):
        sent = "SELECT count(*) FROM messages WHERE status = 'sent'"
        wait_for(lambda: sql(sent) > 0, step=0.01)
        start, first = time.perf_counter(), sql(sent)
        settled = "SELECT count(*) FROM messages WHERE status IN ('sent', 'failed')"
        wait_for(lambda: sql(settled) >= count, timeout=600, step=0.05)
        elapsed = time.perf_counter() - start
        time.sleep(1)
        made = worker_commits()
    return (count - first) / elapsed, made / count


def signed_stop(base: str, phone: str) -> None:
    form = {
        "From": phone,
        "To": SENDER,
        "Body": "STOP",
        "MessageSid": f"SM{time.time_ns():032x}",
        "AccountSid": ACCOUNT,
    }
    signature = RequestValidator(TOKEN).compute_signature(f"{base}/twilio/inbound", form)
    response = requests.post(
        f"{base}/twilio/inbound",
        data=urlencode(form),
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text


def main() -> None:
    web_port = free_port()
    base = f"http://127.0.0.1:{web_port}"
    print(f"database {DB_URL.rsplit('@', 1)[-1]}, redis {REDIS_URL}, messages {FAST_MESSAGES}")
    reset()
    ceiling = rq_ceiling()
    print(f"ceiling: RQ SimpleWorker, empty jobs          {ceiling:8.0f} jobs/s")
    key = api_key()
    results: dict[str, float] = {"ceiling": ceiling}
    for latency in (0, 150):
        stub_port = free_port()
        stub_url = f"http://127.0.0.1:{stub_port}"
        stub = [
            sys.executable,
            "tests/twilio_stub.py",
            "--port",
            str(stub_port),
            "--latency-ms",
            str(latency),
        ]
        web = [BIN / "gunicorn", "--bind", f"127.0.0.1:{web_port}", "--workers", "2", "wsgi:app"]
        with process(stub), process(web, env(stub_url, web_port)):
            wait_for(lambda: up(f"{base}/api/v1/messages/1"))
            sql("DELETE FROM messages")
            post_messages(base, key, FAST_MESSAGES, f"bench{latency}")
            rate, per_message = drain_rate(stub_url, web_port, FAST_MESSAGES)
        results[f"rate{latency}"] = rate
        results[f"commits{latency}"] = per_message
        ratio = f" ({rate / ceiling:.0%} of the ceiling)" if latency == 0 else ""
        print(f"adapter, {latency:3d} ms stub, one worker process  {rate:8.0f} msg/s{ratio}")
        print(f"  commits per message sent                  {per_message:8.2f}")
        lost = sql("SELECT count(*) FROM messages WHERE status = 'failed'")
        print(f"  sends whose outcome was lost (failed)      {lost:8d}")

    # A 10,000-message backlog on a 1 msg/s sender, then a STOP from someone else.
    stub_port = free_port()
    stub_url = f"http://127.0.0.1:{stub_port}"
    slow = env(stub_url, web_port, TWILIO_SENDS_PER_SECOND="1")
    sql("DELETE FROM messages")
    sql(
        """
        INSERT INTO messages (contact_id, direction, kind, channel, body, status, attempts,
                              priority, next_attempt_at, created_on, modified_on)
        SELECT (SELECT min(id) FROM contacts), 'out', 'api', 'twilio', 'backlog ' || n, 'queued',
               0, 1, now(), now(), now()
        FROM generate_series(1, :n) AS n
        """,
        n=BACKLOG,
    )
    stub = [sys.executable, "tests/twilio_stub.py", "--port", str(stub_port)]
    web = [BIN / "gunicorn", "--bind", f"127.0.0.1:{web_port}", "--workers", "2", "wsgi:app"]
    COMMITS_FILE.write_text("0")
    with process(stub), process(web, slow), process(WORKER, slow):
        wait_for(lambda: up(f"{base}/api/v1/messages/1"))
        sent = "SELECT count(*) FROM messages WHERE status = 'sent'"
        wait_for(lambda: sql(sent) > 0)
        time.sleep(1)
        before, sent_before, start = worker_commits(), sql(sent), time.perf_counter()
        time.sleep(30)
        after, sent_after = worker_commits(), sql(sent)
        waiting_commits = (after - before) / max(1, sent_after - sent_before)
        phone = "+14155559999"
        stopped = time.perf_counter()
        signed_stop(base, phone)
        got = lambda: requests.get(  # noqa: E731
            f"{stub_url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json",
            params={"To": phone},
            timeout=5,
        ).json()["messages"]
        wait_for(got, timeout=60, step=0.02)
        latency = time.perf_counter() - stopped
        left = sql("SELECT count(*) FROM messages WHERE status = 'queued'")
    print(
        f"STOP confirmation behind {BACKLOG} queued at 1 msg/s   {latency:8.2f} s "
        f"({left} still queued; target <= 5 s)"
    )
    print(
        f"  commits per message while the backlog waits {waiting_commits:8.2f}"
        f" (over {time.perf_counter() - start:.0f} s)"
    )


if __name__ == "__main__":
    main()
