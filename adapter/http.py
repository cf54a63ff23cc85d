"""The HTTP client every provider sender shares: pooled keep-alive connections, safe across the
send pool's threads, and failures sorted by whether the provider may have received the request.

The sort is what keeps a send at most once (SPEC §2): a request that never left (connection
refused, DNS, connect timeout) or was answered 429/5xx is ``Verdict.TRANSIENT`` and retried; one
that may have arrived (read timeout, connection dropped before the answer) is ``Verdict.UNKNOWN``
and is never re-sent blindly.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from . import config as config_defaults
from .provider import SendError, Verdict
from .retry import parse_retry_after

# Seconds to connect and to wait for an answer. A provider API answers in well under a second;
# waiting longer only keeps a thread of the pool and delays the reconciler.
DEFAULT_CONNECT_TIMEOUT = 5.0

# urllib3 logs every request line at DEBUG, phone numbers in query strings included.
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)


def read_timeout(config: Mapping[str, Any]) -> float:
    return float(config.get("PROVIDER_TIMEOUT_SECONDS") or config_defaults.PROVIDER_TIMEOUT_SECONDS)


class HttpClient:
    """One ``requests.Session`` per provider and process, its pool as large as the send pool."""

    def __init__(
        self,
        provider: str,
        *,
        base_url: str,
        auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        read_timeout: float = config_defaults.PROVIDER_TIMEOUT_SECONDS,
        pool_size: int = config_defaults.SEND_CONCURRENCY,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        # How long an answer may take: a lookup's window of when a send can have arrived too.
        self.read_timeout = read_timeout
        self.timeout = (min(DEFAULT_CONNECT_TIMEOUT, read_timeout), read_timeout)
        self.session = requests.Session()
        self.session.auth = auth
        self.session.headers.update(headers or {})
        # No automatic retries: whether a request may be repeated is the caller's decision.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send one request; raise :class:`SendError` when no answer came back."""
        try:
            return self.session.request(
                method, self.base_url + path, timeout=self.timeout, **kwargs
            )
        except (requests.ConnectTimeout, requests.exceptions.SSLError) as exc:
            raise self._error(exc, "connect", Verdict.TRANSIENT) from exc
        except requests.ConnectionError as exc:
            # requests raises ConnectionError both for "never connected" and for "the connection
            # broke while we waited for the answer"; only the first is certainly not received.
            if _never_connected(exc):
                raise self._error(exc, "connect", Verdict.TRANSIENT) from exc
            raise self._error(exc, "no_answer", Verdict.UNKNOWN) from exc
        except requests.Timeout as exc:
            raise self._error(exc, "timeout", Verdict.UNKNOWN) from exc
        except requests.RequestException as exc:
            # Invalid URL and the like: nothing was sent.
            raise self._error(exc, "request", Verdict.TRANSIENT) from exc

    def _error(self, exc: Exception, code: str, verdict: Verdict) -> SendError:
        return SendError(
            f"no answer from {self.provider}: {exc.__class__.__name__}", code=code, verdict=verdict
        )


def _never_connected(exc: requests.ConnectionError) -> bool:
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    reason: object = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, NewConnectionError | NameResolutionError)


def http_status_error(
    provider: str, response: requests.Response, code: str | None, message: str, verdict: Verdict
) -> SendError:
    """A refusal by the provider; 429 and 5xx mean it did not take the message, so retry."""
    if response.status_code == 429 or response.status_code >= 500:
        verdict = Verdict.TRANSIENT
    return SendError(
        f"{provider} refused the message: {message}",
        code=code or str(response.status_code),
        verdict=verdict,
        retry_after=parse_retry_after(response.headers),
    )


def response_json(response: requests.Response) -> dict[str, Any]:
    """The answer's JSON object; empty when the provider answered something else (an HTML error
    page from a proxy, an empty body)."""
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}
