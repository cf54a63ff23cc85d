"""/metrics: counts after commit only, backlog from the database, and one sum across processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from prometheus_client import REGISTRY
from support import TWILIO, api_caller, in_flight, text_in

from adapter import outcomes, rules
from adapter.db import transaction
from adapter.models import EventSource
from adapter.outcomes import Outcome
from adapter.provider import DeliveryReceipt, SendResult
from adapter.receipts import apply_receipt

PHONE = "+14155550100"
SID = "SM" + "3" * 32


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_count_inbound_opt_outs_and_the_backlog(app):
    inbound = sample("sms_inbound_messages_total", channel="dev", forwarded="true")
    keyword = sample("sms_opt_outs_total", source="keyword")
    opt_ins = sample("sms_opt_ins_total", source="system")
    text_in(app, PHONE, "STOP")
    text_in(app, PHONE, "hello again")
    assert sample("sms_inbound_messages_total", channel="dev", forwarded="true") == inbound + 2
    assert sample("sms_opt_outs_total", source="keyword") == keyword + 1
    assert sample("sms_opt_ins_total", source="system") == opt_ins + 1

    api = api_caller(app)
    api("POST", "/api/v1/messages", json={"to": PHONE, "body": "hi"})
    text = app.test_client().get("/metrics").get_data(as_text=True)
    # The opt-out confirmation and the API message wait in the queue.
    assert 'sms_queue_depth{channel="dev"} 2.0' in text
    assert 'sms_app_events{state="pending"} 0.0' in text
    assert "sms_send_latency_seconds_bucket" in text


def test_a_change_that_rolls_back_is_not_counted(app):
    before = sample("sms_opt_outs_total", source="staff")
    with app.app_context():
        session = app.extensions["adapter.write_sessionmaker"]()
        contact = rules.get_or_create_contact(session, PHONE)
        rules.stop(session, contact, rules.Cause(source=EventSource.STAFF))
        session.rollback()
        session.close()
    assert sample("sms_opt_outs_total", source="staff") == before
    with app.app_context(), transaction() as session:
        contact = rules.get_or_create_contact(session, PHONE)
        rules.stop(session, contact, rules.Cause(source=EventSource.STAFF))
    assert sample("sms_opt_outs_total", source="staff") == before + 1


def test_a_receipt_that_beats_the_send_answer_is_counted_once(make_app):
    """A fast provider's "sent" callback can arrive before the worker has stored the answer of
    the same send: the message is counted sent once, and reported to the application once."""
    app = make_app(**TWILIO)

    def sent() -> tuple[float, float]:
        counted = sample("sms_outbound_messages_total", channel="twilio", status="sent", reason="")
        return counted, sample("sms_send_latency_seconds_count")

    before = sent()
    message_id = in_flight(app, PHONE)
    with app.app_context():
        assert apply_receipt(DeliveryReceipt("twilio", message_id, SID, "sent", attempt=1))
        with transaction() as session:
            outcomes.record(session, [Outcome(message_id, 1, result=SendResult(SID))])
    assert sent() == (before[0] + 1, before[1] + 1)


def test_counts_from_several_processes_add_up(database_url, tmp_path):
    """Like gunicorn's workers: each process counts into PROMETHEUS_MULTIPROC_DIR, and /metrics
    answered by any of them shows the sum."""
    from conftest import TEST_REDIS_URL

    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    script = textwrap.dedent(
        f"""
        import sys
        from adapter import create_app
        from adapter.inbound import handle_inbound
        from adapter.provider import InboundMessage
        app = create_app({{"DATABASE_URL": {database_url!r}, "REDIS_URL": {TEST_REDIS_URL!r},
                          "SECRET_KEY": "x"}})
        with app.app_context():
            handle_inbound(InboundMessage("dev", sys.argv[1], None, "hello", "MP" + sys.argv[1]))
        if len(sys.argv) > 2:
            print(app.test_client().get("/metrics").get_data(as_text=True))
        """
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    for phone in ("+14155550101", "+14155550102"):
        subprocess.run([sys.executable, "-c", script, phone], env=env, check=True)
    out = subprocess.run(
        [sys.executable, "-c", script, "+14155550103", "show"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert 'sms_inbound_messages_total{channel="dev",forwarded="true"} 3.0' in out
