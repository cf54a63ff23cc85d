"""The send path under faults (SPEC §2: at most once, never stuck), with real worker processes.

Each test runs `flask --app wsgi worker` processes against the test database and Redis, and a
local stand-in for Twilio's Messages API (tests/twilio_stub.py) that records every message it is
given. Waits are bounded; nothing here measures speed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import TEST_REDIS_URL
from redis import Redis
from redis.exceptions import RedisError
from rq import Worker
from sqlalchemy import func, select
from support import TWILIO, api_caller, post_signed
from twilio_stub import TwilioStub

from adapter.db import transaction
from adapter.gate import claim
from adapter.models import ContactEvent, Message
from adapter.queue import send_queue

ROOT = Path(__file__).resolve().parent.parent
FINAL = ("sent", "delivered", "failed", "undelivered", "suppressed")


def eventually(
    check: Callable[[], object], timeout: float = 20.0, what: str | Callable[[], str] = ""
) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what() if callable(what) else what}")
        time.sleep(0.05)


class Rig:
    """A stub Twilio, an app on the test database, and worker processes to start and kill."""

    def __init__(self, make_app, database_url: str, tmp_path: Path, **settings: str) -> None:  # type: ignore[no-untyped-def]
        self.stub = TwilioStub().__enter__()
        self.settings = {
            **TWILIO,
            "TWILIO_API_BASE_URL": self.stub.url,
            "PROVIDER_TIMEOUT_SECONDS": "1",
            "SENDING_TIMEOUT_SECONDS": "4",
            "SWEEP_INTERVAL_SECONDS": "0.5",
            "REDIS_URL": TEST_REDIS_URL,
            **settings,
        }
        self.database_url = database_url
        self.app = make_app(**self.settings)
        self.api = api_caller(self.app)
        self.workers: list[subprocess.Popen[bytes]] = []
        self.logs = tmp_path

    def start_worker(self) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            **self.settings,
            "DATABASE_URL": self.database_url,
            "LOG_LEVEL": "WARNING",
        }
        log = open(self.logs / f"worker-{len(self.workers)}.log", "wb")  # noqa: SIM115
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers.append(worker)
        return worker

    def close(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.kill()
            worker.wait(10)
        self.stub.__exit__()

    def send(self, to: str, body: str) -> int:
        response = self.api("POST", "/api/v1/messages", json={"to": to, "body": body})
        assert response.status_code == 202, response.get_json()
        return response.get_json()["id"]

    def status(self, message_id: int) -> Message:
        with self.app.app_context(), transaction() as session:
            return session.get_one(Message, message_id)

    def statuses(self) -> Counter[str]:
        with self.app.app_context(), transaction() as session:
            rows = session.execute(
                select(Message.status, func.count())
                .where(Message.direction == "out")
                .group_by(Message.status)
            ).all()
        return Counter({status: count for status, count in rows})


@pytest.fixture
def rig(make_app, database_url, redis_client, tmp_path) -> Iterator[Callable[..., Rig]]:
    made: list[Rig] = []

    def make(**settings: str) -> Rig:
        made.append(Rig(make_app, database_url, tmp_path, **settings))
        return made[-1]

    yield make
    for each in made:
        each.close()


def test_a_send_answered_after_the_client_gave_up_is_sent_once(rig):
    r = rig()
    r.stub.latency = 2.5  # past PROVIDER_TIMEOUT_SECONDS=1: the worker never sees the answer
    message_id = r.send("+14155550100", "hello")
    r.start_worker()
    sent = eventually(lambda: r.status(message_id).status == "sent", what="settled as sent")
    assert sent
    assert len(r.stub.sends()) == 1
    # The reconciler found it at the provider rather than sending it again.
    assert r.status(message_id).provider_message_id == r.stub.sends()[0].sid


def test_a_receipt_for_an_earlier_attempts_sid_causes_no_resend(rig):
    r = rig()
    message_id = r.send("+14155550100", "hello")
    r.start_worker()
    eventually(lambda: r.status(message_id).status == "sent")
    stale = {"MessageSid": "SM" + "e" * 32, "MessageStatus": "failed", "ErrorCode": "30008"}
    path = f"/twilio/status?message_id={message_id}&attempt=1"
    assert post_signed(r.app, path, stale).status_code == 204
    time.sleep(1.5)  # three sweeps
    got = r.status(message_id)
    assert (got.status, got.error_code) == ("sent", None)
    assert len(r.stub.sends()) == 1


def test_a_worker_killed_after_the_provider_got_the_message_never_sends_it_twice(rig):
    r = rig()
    r.stub.latency = 60  # the answer never comes back before the kill
    message_id = r.send("+14155550100", "hello")
    worker = r.start_worker()
    eventually(lambda: r.stub.sends(), what="the stub received the send")
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    r.stub.latency = 0
    r.start_worker()
    eventually(lambda: r.status(message_id).status != "sending", timeout=15, what="settled")
    got = r.status(message_id)
    assert (got.status, got.provider_message_id) == ("sent", r.stub.sends()[0].sid)
    assert len(r.stub.sends()) == 1


def test_a_worker_killed_before_the_provider_got_it_fails_as_outcome_unknown(rig):
    r = rig()
    message_id = r.send("+14155550100", "hello")
    with r.app.app_context(), transaction() as session:
        # What a worker killed right after its claim's commit leaves behind.
        assert len(claim(session, "twilio", 10).claimed) == 1
    r.start_worker()
    eventually(lambda: r.status(message_id).status != "sending", timeout=15, what="settled")
    got = r.status(message_id)
    assert (got.status, got.error_code) == ("failed", "outcome_unknown")
    assert r.stub.sends() == []


def test_twenty_duplicate_jobs_for_one_message_send_it_once(rig):
    r = rig()
    message_id = r.send("+14155550100", "hello")
    with r.app.app_context():
        queue = send_queue(r.app)
        for _ in range(10):
            queue.enqueue("adapter.sending.send_message", message_id)
            queue.enqueue("adapter.dispatch.dispatch_channel", "twilio")
    for _ in range(3):
        r.start_worker()
    eventually(lambda: r.status(message_id).status == "sent")
    eventually(lambda: send_queue(r.app).count == 0, what="every job ran")
    time.sleep(0.5)
    assert len(r.stub.sends()) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_redis_restarted_under_load_sends_every_message_once_and_no_worker_exits(rig, tmp_path):
    port = _free_port()

    def start_redis() -> subprocess.Popen[bytes]:
        command = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]
        server = subprocess.Popen(
            [*command, "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        eventually(lambda: _answers(port), timeout=10, what="redis-server up")
        return server

    redis_server = start_redis()
    try:
        r = rig(REDIS_URL=f"redis://127.0.0.1:{port}/0")
        r.stub.latency = 0.01
        workers = [r.start_worker(), r.start_worker()]
        redis = Redis(port=port)
        eventually(lambda: Worker.count(connection=redis) == 2, what="both workers listening")
        expected = [f"message {i}" for i in range(120)]
        phones = [f"+1415555{i:04d}" for i in range(30)]
        for i, body in enumerate(expected[:40]):
            r.send(phones[i % 30], body)
        redis_server.kill()
        redis_server.wait(10)
        for i, body in enumerate(expected[40:80], start=40):
            r.send(phones[i % 30], body)  # accepted while Redis is down
        time.sleep(2)
        redis_server = start_redis()
        for i, body in enumerate(expected[80:], start=80):
            r.send(phones[i % 30], body)
        eventually(
            lambda: r.statuses().get("sent") == 120,
            timeout=60,
            what=lambda: f"all 120 sent: {r.statuses()}, stub got {len(r.stub.sends())}",
        )
        time.sleep(1)
        assert sorted(received.body for received in r.stub.sends()) == sorted(expected)
        assert [worker.poll() for worker in workers] == [None, None]
    finally:
        redis_server.kill()
        redis_server.wait(10)


def _answers(port: int) -> bool:
    client = Redis(port=port, socket_connect_timeout=0.2, socket_timeout=0.2)
    try:
        return bool(client.ping())
    except RedisError:
        return False
    finally:
        client.close()


def test_nothing_is_sent_after_a_stop_commits_while_a_batch_is_going_out(rig):
    r = rig()
    r.stub.latency = 0.005
    phones = [f"+1415555{i:04d}" for i in range(20)]
    for round_ in range(10):
        for phone in phones:
            r.send(phone, f"offer {round_}")
    r.start_worker()
    eventually(lambda: r.stub.sends(), what="sending started")

    def stop_everyone() -> None:
        for i, phone in enumerate(phones):
            form = {
                "From": phone,
                "To": TWILIO["TWILIO_FROM"],
                "Body": "STOP",
                "MessageSid": f"SM{i:032d}",
                "AccountSid": TWILIO["TWILIO_ACCOUNT_SID"],
            }
            assert post_signed(r.app, "/twilio/inbound", form).status_code == 200
            time.sleep(0.01)

    stop_everyone()  # while the worker, another process, sends the batch
    eventually(lambda: not r.statuses().keys() & {"queued", "sending"}, timeout=30)
    with r.app.app_context(), transaction() as session:
        stops = dict(
            session.execute(
                select(ContactEvent.contact_id, ContactEvent.created_on).where(
                    ContactEvent.new_value == "stopped"
                )
            ).all()
        )
        sent = session.execute(
            select(Message.contact_id, Message.sending_since).where(
                Message.kind == "api", Message.status == "sent"
            )
        ).all()
    assert len(stops) == 20
    # Every offer that went out was claimed (the contact read) before its STOP committed.
    late = [row for row in sent if row.sending_since >= stops[row.contact_id]]
    assert late == []
    offers_received = [s for s in r.stub.sends() if s.body.startswith("offer")]
    assert len(offers_received) == len(sent)


def test_the_stop_confirmation_overtakes_a_backlog(rig):
    r = rig(TWILIO_SENDS_PER_SECOND="2")
    for i in range(40):
        r.send("+14155550100", f"newsletter {i}")
    r.start_worker()
    eventually(lambda: r.stub.sends(), what="the backlog started")
    form = {
        "From": "+14155550111",
        "To": TWILIO["TWILIO_FROM"],
        "Body": "STOP",
        "MessageSid": "SM" + "5" * 32,
        "AccountSid": TWILIO["TWILIO_ACCOUNT_SID"],
    }
    stopped_at = time.time()
    assert post_signed(r.app, "/twilio/inbound", form).status_code == 200
    confirmation = eventually(lambda: r.stub.sends("+14155550111"), timeout=10)[0]
    assert confirmation.at - stopped_at < 3.0
    # It went out while most of the backlog (2 a second) was still waiting.
    assert r.statuses()["queued"] >= 30


def test_a_half_configured_provider_stops_the_app_with_one_line_naming_what_is_missing(
    database_url,
):
    env = {key: value for key, value in os.environ.items() if not key.startswith("TWILIO_")}
    env.update(DATABASE_URL=database_url, REDIS_URL=TEST_REDIS_URL, TWILIO_AUTH_TOKEN="only-this")
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "TWILIO_ACCOUNT_SID" in lines[0] and "TWILIO_FROM" in lines[0]
    assert "only-this" not in done.stderr


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(line) for line in found.stdout.split()]


@pytest.mark.skipif(shutil.which("pgrep") is None, reason="needs pgrep")
def test_the_dev_worker_is_restarted_when_it_exits(rig):
    r = rig()
    env = {**os.environ, **r.settings, "DATABASE_URL": r.database_url, "LOG_LEVEL": "WARNING"}
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--restart"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    r.workers.append(supervisor)
    first = eventually(lambda: _children(supervisor.pid), what="the worker started")[0]
    os.kill(first, signal.SIGKILL)
    second = eventually(
        lambda: [pid for pid in _children(supervisor.pid) if pid != first], what="restarted"
    )[0]
    # The restarted worker sends.
    message_id = r.send("+14155550100", "after the crash")
    eventually(lambda: r.status(message_id).status == "sent")
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(30) is not None
    assert not _children(supervisor.pid) and second
