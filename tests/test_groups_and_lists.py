"""Groups, group sends, and the listing endpoints applications poll. Real database and Redis."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, update
from support import api_caller, text_in

from adapter.db import transaction
from adapter.gate import claim
from adapter.models import Contact, Group, GroupMembership

ACTIVE = [f"+1415555010{n}" for n in range(4)]
STOPPED, BLOCKED = "+14155550110", "+14155550111"


@pytest.fixture
def app(make_app):
    return make_app(POLL_SETTLE_SECONDS=0)


@pytest.fixture
def api(app):
    return api_caller(app, "crm")


def test_group_membership_through_the_api(app, api):
    assert api("POST", "/api/v1/groups", json={"name": "news"}).status_code == 201
    assert api("POST", "/api/v1/groups", json={"name": "news"}).status_code == 409
    api("POST", "/api/v1/contacts", json={"phone": ACTIVE[0]})
    api("POST", "/api/v1/contacts", json={"phone": STOPPED})
    api("POST", f"/api/v1/contacts/{STOPPED}/status", json={"status": "stopped"})

    response = api("PUT", f"/api/v1/groups/news/members/{ACTIVE[0]}")
    assert response.status_code == 200
    assert response.get_json()["groups"] == ["news"]
    refused = api("PUT", f"/api/v1/groups/news/members/{STOPPED}")
    assert refused.status_code == 409
    assert "only active contacts" in refused.get_json()["error"]
    assert api("PUT", f"/api/v1/groups/other/members/{ACTIVE[0]}").status_code == 404
    assert api("PUT", "/api/v1/groups/news/members/+14155559999").status_code == 404
    assert api("GET", "/api/v1/groups").get_json() == {"groups": [{"name": "news", "members": 1}]}

    assert api("DELETE", f"/api/v1/groups/news/members/{ACTIVE[0]}").status_code == 204
    assert api("GET", f"/api/v1/contacts/{ACTIVE[0]}").get_json()["groups"] == []


def test_a_group_send_skips_nobody_active_and_reaches_nobody_stopped(app, api):
    for phone in [*ACTIVE, STOPPED, BLOCKED]:
        api("POST", "/api/v1/contacts", json={"phone": phone, "groups": ["news"]})
    api("POST", f"/api/v1/contacts/{STOPPED}/status", json={"status": "stopped"})
    api("POST", f"/api/v1/contacts/{BLOCKED}/status", json={"status": "blocked"})
    with app.app_context(), transaction() as session:
        # Memberships left behind by anything (an old import, a direct database edit) must not
        # reach them either.
        group_id = session.scalar(select(Group.id).where(Group.name == "news"))
        ids = session.scalars(select(Contact.id).where(Contact.phone.in_([STOPPED, BLOCKED])))
        session.execute(
            insert(GroupMembership), [{"group_id": group_id, "contact_id": i} for i in ids]
        )

    response = api("POST", "/api/v1/messages", json={"group": "news", "body": "Sale today"})
    assert response.status_code == 202
    body = response.get_json()
    assert body["count"] == len(ACTIVE)
    assert sorted(m["to"] for m in body["messages"]) == ACTIVE
    assert {m["status"] for m in body["messages"]} == {"queued"}
    with app.app_context(), transaction() as session:
        batch = claim(session, "dev", 100)
    assert sorted(c.request.to for c in batch.claimed) == ACTIVE
    assert batch.suppressed == {}


def test_a_member_stopped_after_the_group_send_is_suppressed_at_send_time(app, api):
    for phone in ACTIVE:
        api("POST", "/api/v1/contacts", json={"phone": phone, "groups": ["news"]})
    sent = api("POST", "/api/v1/messages", json={"group": "news", "body": "Sale"}).get_json()
    text_in(app, ACTIVE[0], "STOP")
    with app.app_context(), transaction() as session:
        batch = claim(session, "dev", 100)
    stopped_id = next(m["id"] for m in sent["messages"] if m["to"] == ACTIVE[0])
    assert stopped_id in batch.suppressed["stopped"]
    assert ACTIVE[0] not in [c.request.to for c in batch.claimed if c.request.body == "Sale"]


@pytest.mark.parametrize(
    ("payload", "status", "words"),
    [
        ({"group": "nope", "body": "x"}, 404, "no group"),
        ({"group": "news", "to": ACTIVE[0], "body": "x"}, 400, "not both"),
        ({"group": "news"}, 400, "'body' is required"),
        ({"group": "news", "body": "x", "idempotency_key": "k"}, 400, "idempotency_key"),
    ],
)
def test_bad_group_sends_say_what_is_wrong(app, api, payload, status, words):
    api("POST", "/api/v1/groups", json={"name": "news"})
    response = api("POST", "/api/v1/messages", json=payload)
    assert response.status_code == status
    assert words in response.get_json()["error"]


def test_polling_messages_pages_oldest_first_with_a_cursor(app, api):
    for n in range(5):
        text_in(app, ACTIVE[n % 2], f"in {n}")
    api("POST", "/api/v1/messages", json={"to": ACTIVE[0], "body": "out 0"})

    seen, cursor = [], None
    for _ in range(10):
        query = "direction=inbound&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api("GET", f"/api/v1/messages?{query}").get_json()
        if not page["messages"]:
            break
        seen += [m["body"] for m in page["messages"]]
        cursor = page["next_cursor"]
    assert seen == [f"in {n}" for n in range(5)]
    # Polling on with the last cursor finds what arrived since, and only that.
    text_in(app, ACTIVE[1], "in 5")
    page = api("GET", f"/api/v1/messages?direction=inbound&cursor={cursor}").get_json()
    assert [m["body"] for m in page["messages"]] == ["in 5"]
    assert page["messages"][0]["from"] == ACTIVE[1]

    outbound = api("GET", "/api/v1/messages?direction=outbound&status=queued").get_json()
    assert [(m["to"], m["body"]) for m in outbound["messages"]] == [(ACTIVE[0], "out 0")]
    future = api("GET", "/api/v1/messages?since=2999-01-01T00:00:00Z").get_json()
    assert future["messages"] == []


def test_polling_never_lists_a_blocked_contacts_messages(app, api):
    text_in(app, ACTIVE[0], "before the block")
    api("POST", f"/api/v1/contacts/{ACTIVE[0]}/status", json={"status": "blocked"})
    text_in(app, ACTIVE[0], "spam spam")
    text_in(app, ACTIVE[1], "hello")
    for query in ("", "?direction=inbound", "?status=archived"):
        page = api("GET", f"/api/v1/messages{query}").get_json()
        assert "spam spam" not in [m["body"] for m in page["messages"]]
    bodies = [m["body"] for m in api("GET", "/api/v1/messages").get_json()["messages"]]
    assert bodies == ["before the block", "hello"]


def test_polling_lists_only_settled_messages(make_app):
    app = make_app(POLL_SETTLE_SECONDS=1)
    api = api_caller(app)
    text_in(app, ACTIVE[0])
    assert api("GET", "/api/v1/messages").get_json()["messages"] == []
    time.sleep(1.1)
    assert len(api("GET", "/api/v1/messages").get_json()["messages"]) == 1


def test_listing_contacts_with_filters_and_cursor(app, api):
    for n, phone in enumerate(ACTIVE):
        api("POST", "/api/v1/contacts", json={"phone": phone, "name": f"Person {n}"})
    text_in(app, ACTIVE[1])
    api("POST", f"/api/v1/contacts/{ACTIVE[2]}/status", json={"status": "stopped"})
    with app.app_context(), transaction() as session:
        session.execute(
            update(Contact)
            .where(Contact.phone == ACTIVE[3])
            .values(last_seen_on=datetime(2020, 1, 1, tzinfo=UTC))
        )

    def phones(query: str) -> list[str]:
        return [c["phone"] for c in api("GET", f"/api/v1/contacts?{query}").get_json()["contacts"]]

    assert phones("status=stopped") == [ACTIVE[2]]
    assert phones("never_seen=true") == [ACTIVE[0], ACTIVE[2]]
    assert phones("last_seen_before=2021-01-01") == [ACTIVE[3]]
    assert phones("last_seen_before=2021-01-01&never_seen=true") == [
        ACTIVE[0],
        ACTIVE[2],
        ACTIVE[3],
    ]
    assert phones("q=person 1") == [ACTIVE[1]]
    assert phones("q=5550102") == [ACTIVE[2]]

    seen, cursor = [], ""
    while cursor is not None:
        page = api("GET", f"/api/v1/contacts?limit=3&cursor={cursor}").get_json()
        seen += [c["phone"] for c in page["contacts"]]
        cursor = page["next_cursor"]
    assert seen == ACTIVE


@pytest.mark.parametrize(
    "query",
    [
        "messages?direction=sideways",
        "messages?status=lost",
        "messages?since=yesterday",
        "messages?limit=0",
        "messages?limit=5000",
        "messages?cursor=abc",
        "contacts?status=gone",
        "contacts?last_seen_before=soon",
    ],
)
def test_bad_listing_parameters_are_a_400(app, api, query):
    response = api("GET", f"/api/v1/{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]
