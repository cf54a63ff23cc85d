"""A local stand-in for Twilio's Messages API, for fault tests and benchmarks.

It records every message it is given (before answering, as Twilio would have it even when the
answer never arrives), answers after a configurable delay, and lists messages by ``To`` like
``GET Messages.json`` does, so the adapter's reconciler can look sends up.

In a test: ``with TwilioStub() as stub: ...`` (a thread of the test process). From a shell:
``python tests/twilio_stub.py --port 8765 --latency-ms 150`` (a process of its own).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Received:
    sid: str
    to: str
    body: str
    status_callback: str | None
    at: float  # time.time() when the request arrived
    created: datetime


class TwilioStub:
    def __init__(self, port: int = 0, latency: float = 0.0) -> None:
        # Seconds before answering a send; a fault test raises it past the client's timeout.
        self.latency = latency
        # When set, sends are answered with this HTTP status (e.g. 500) and not recorded.
        self.fail_status: int | None = None
        self.received: list[Received] = []
        self._lock = threading.Lock()
        server_class = type("Server", (ThreadingHTTPServer,), {"request_queue_size": 1024})
        # A listen backlog as deep as a real API's: the default (5) resets connections that a
        # pool of 64 senders opens at once.
        self._server = server_class(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> TwilioStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def sends(self, to: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if to is None or r.to == to]

    def record(self, form: dict[str, str]) -> Received:
        with self._lock:
            received = Received(
                sid=f"SM{uuid.uuid4().hex}",
                to=form.get("To", ""),
                body=form.get("Body", ""),
                status_callback=form.get("StatusCallback"),
                at=time.time(),
                created=datetime.now(UTC),
            )
            self.received.append(received)
            return received


def _handler(stub: TwilioStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if stub.fail_status is not None:
                self._json(stub.fail_status, {"code": 20500, "message": "stub failure"})
                return
            received = stub.record(form)
            if stub.latency:
                time.sleep(stub.latency)
            self._json(201, _resource(received))

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            to = (query.get("To") or [None])[0]
            found = [_resource(r) for r in reversed(stub.sends(to))][:50]
            self._json(200, {"messages": found})

        def _json(self, status: int, payload: object) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting: Twilio has the message all the same

    return Handler


def _resource(received: Received) -> dict[str, object]:
    return {
        "sid": received.sid,
        "to": received.to,
        "body": received.body,
        "status": "queued",
        "error_code": None,
        "date_created": format_datetime(received.created),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    stub = TwilioStub(args.port, args.latency_ms / 1000)
    print(f"Twilio stub on {stub.url}", flush=True)
    stub._server.serve_forever()
