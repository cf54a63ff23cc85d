"""Property tests (issue 8): generated input thrown at every API route and every webhook route
(signed, so the parser is reached) never gets a 5xx, and a refused request writes nothing.

Profiles: ``ci`` (the default) keeps the examples few enough for CI's time budget;
``HYPOTHESIS_PROFILE=deep`` runs many more when looking for trouble.
"""

from __future__ import annotations

import os
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from support import TWILIO, api_caller, post_signed

from adapter.models import Contact, ContactEvent, Group, GroupMembership, Message

_COMMON = {
    "deadline": None,
    # The app and its database are built once per test and shared by its examples on purpose:
    # state left by one example (a contact, a group) is what the next one meets.
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "database": None,
}
settings.register_profile("ci", max_examples=100, **_COMMON)
settings.register_profile("deep", max_examples=1000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

PHONES = ["+14155550100", "+14155550101", "+447400123456", "4155550102", "+1415555ABCD"]
TABLES = (Contact, Message, ContactEvent, Group, GroupMembership)

# Text a URL or a form can carry (no lone surrogates: those cannot be percent-encoded as UTF-8).
url_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
# Half of the text is the known troublemakers, half whatever Hypothesis makes up.
nasty_text = st.one_of(
    st.sampled_from(["", " ", "a\x00b", "\ud800", "STOP", "Active", "x" * 1601, "²", "٣"]),
    st.text(max_size=40),
)
json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), nasty_text
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)
phone = st.one_of(st.sampled_from(PHONES), url_text, json_value)
group = st.one_of(st.just("news"), nasty_text)
status_word = st.one_of(st.sampled_from(["active", "stopped", "blocked", "ARCHIVED"]), json_value)


def maybe(**fields: st.SearchStrategy) -> st.SearchStrategy[dict]:
    """A JSON object with all of ``fields`` or any subset, plus now and then a stray key."""
    objects = st.one_of(st.fixed_dictionaries(fields), st.fixed_dictionaries({}, optional=fields))
    return objects.flatmap(
        lambda d: st.dictionaries(st.text(max_size=5), json_value, max_size=1).map(
            lambda extra: {**extra, **d}
        )
    )


bodies = {
    "messages": maybe(
        to=phone,
        body=st.one_of(nasty_text, json_value),
        idempotency_key=st.one_of(st.sampled_from(["k1", "k2"]), json_value),
        group=st.one_of(st.sampled_from(["news"]), json_value),
    ),
    "contacts": maybe(
        phone=phone,
        name=st.one_of(nasty_text, json_value),
        groups=st.one_of(st.lists(st.one_of(st.just("news"), nasty_text), max_size=3), json_value),
        status=status_word,
    ),
    "status": maybe(status=status_word, reason=st.one_of(nasty_text, json_value)),
    "groups": maybe(name=st.one_of(st.just("news"), nasty_text, json_value)),
}


def counts(app) -> tuple[int, ...]:
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        try:
            return tuple(
                session.scalar(select(func.count()).select_from(table)) for table in TABLES
            )
        finally:
            session.close()


def check(app, response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]


def path_part(value: object) -> str:
    # A lone surrogate goes out as the bytes it would be, which the server must cope with too.
    return quote(value if isinstance(value, str) else str(value), safe="", errors="surrogatepass")


@pytest.mark.parametrize("route", ["messages", "contacts", "status", "groups", "member", "delete"])
def test_api_writes_never_fail_and_refusals_write_nothing(make_app, route):
    app = make_app(**TWILIO)
    api = api_caller(app)

    @given(
        number=phone,
        data=st.data(),
        # Now and then a body that is not JSON, or JSON nested too deep for a parser.
        raw=st.integers(0, 9).flatmap(
            lambda k: st.binary(max_size=50) if k == 0 else st.just(b"[" * 5000 if k == 1 else b"")
        ),
    )
    def run(number, data, raw):
        before = counts(app)
        target = path_part(number if isinstance(number, str) else PHONES[0])
        method, path = {
            "messages": ("POST", "/api/v1/messages"),
            "contacts": ("POST", "/api/v1/contacts"),
            "status": ("POST", f"/api/v1/contacts/{target}/status"),
            "groups": ("POST", "/api/v1/groups"),
            "member": ("PUT", f"/api/v1/groups/{path_part(data.draw(group))}/members/{target}"),
            "delete": ("DELETE", f"/api/v1/contacts/{target}"),
        }[route]
        if raw:
            response = api(method, path, data=raw, headers={"Content-Type": "application/json"})
        else:
            payload = data.draw(bodies.get(route, st.just({})))
            response = api(method, path, json=payload)
        check(app, response)
        if response.status_code >= 400:
            assert counts(app) == before, (response.status_code, response.get_json())

    run()


def test_api_reads_never_fail(make_app):
    app = make_app(**TWILIO)
    api = api_caller(app)
    params = st.dictionaries(
        st.sampled_from(
            [
                "direction",
                "status",
                "since",
                "limit",
                "cursor",
                "q",
                "never_seen",
                "last_seen_before",
            ]
        ),
        url_text,
        max_size=3,
    )

    @given(
        path=st.one_of(
            st.integers(min_value=-1, max_value=2**80).map(lambda i: f"/api/v1/messages/{i}"),
            url_text.map(lambda s: f"/api/v1/messages/{path_part(s)}"),
            phone.map(lambda p: f"/api/v1/contacts/{path_part(p)}"),
            phone.map(lambda p: f"/api/v1/contacts/{path_part(p)}/events"),
            params.map(lambda q: f"/api/v1/messages?{urlencode(q)}"),
            params.map(lambda q: f"/api/v1/contacts?{urlencode(q)}"),
            st.just("/api/v1/groups"),
        )
    )
    def run(path):
        check(app, api("GET", path))

    run()


twilio_text = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    st.sampled_from(["", "a\x00b", "STOP", "start", "99", "-1", "1" * 30, "SM" + "1" * 63]),
)
sids = st.one_of(
    st.integers(0, 10**6).map(lambda i: f"SM{i:032d}"), twilio_text, st.just("SM" + "0" * 32)
)


def test_signed_inbound_webhooks_never_fail(make_app):
    app = make_app(**TWILIO)
    form = st.fixed_dictionaries(
        {"MessageSid": sids, "From": st.one_of(st.sampled_from(PHONES), twilio_text)},
        optional={
            "Body": twilio_text,
            "To": twilio_text,
            "NumMedia": twilio_text,
            "MediaUrl0": twilio_text,
            "OptOutType": st.one_of(st.sampled_from(["STOP", "START", "HELP"]), twilio_text),
            "SmsSid": twilio_text,
        },
    )

    @given(fields=form)
    def run(fields):
        before = counts(app)
        response = post_signed(app, "/twilio/inbound", fields)
        check(app, response)
        if response.status_code >= 400:
            assert counts(app) == before, response.get_data(as_text=True)

    run()


def test_signed_status_callbacks_never_fail(make_app):
    app = make_app(**TWILIO)
    ids = st.one_of(st.integers(0, 2**70).map(str), twilio_text)
    query = st.dictionaries(st.sampled_from(["message_id", "attempt"]), ids, max_size=2)
    form = st.fixed_dictionaries(
        {},
        optional={
            "MessageSid": sids,
            "MessageStatus": st.one_of(
                st.sampled_from(["sent", "delivered", "failed", "undelivered", "READ"]), twilio_text
            ),
            "ErrorCode": st.one_of(st.sampled_from(["21610", "30003", "30005"]), twilio_text),
        },
    )

    @given(query=query, fields=form)
    def run(query, fields):
        before = counts(app)
        path = "/twilio/status" + (f"?{urlencode(query)}" if query else "")
        response = post_signed(app, path, fields)
        check(app, response)
        if response.status_code >= 400:
            assert counts(app) == before, response.get_data(as_text=True)

    run()


def test_unsigned_or_missigned_webhooks_are_refused(make_app):
    app = make_app(**TWILIO)

    @given(fields=st.dictionaries(st.sampled_from(["MessageSid", "From", "Body"]), twilio_text))
    def run(fields):
        response = post_signed(app, "/twilio/inbound", fields, token="not-the-token")
        assert response.status_code == 403
        assert counts(app) == (0, 0, 0, 0, 0)

    run()
