"""The admin page through Flask's test client: login and its throttle, CSRF, escaping, folders,
search and keyset pages, contact actions and their confirmations, bulk jobs run by a real RQ
worker, the CSV evidence, the dashboard. Real database and Redis."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from admin_support import (
    PASSWORD,
    add_contact,
    attempt_login,
    contact_status,
    csrf_token,
    logged_in,
    make_staff,
    post_page_form,
    query,
    text_in,
)
from sqlalchemy import select
from support import TWILIO

from adapter.admin.models import StaffAction
from adapter.models import ContactEvent
from adapter.worker import run_worker

PHONE = "+14155550100"


@pytest.fixture
def app(make_app):
    return make_app(**TWILIO)


def _events(app, contact_id):
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        events = session.scalars(
            select(ContactEvent)
            .where(ContactEvent.contact_id == contact_id)
            .order_by(ContactEvent.id)
        ).all()
        session.close()
    return events


# --- login ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/dashboard", "/admin/contacts/1", "/admin/jobs/x", "/admin/bulk"]
)
def test_an_unauthenticated_visitor_is_sent_to_the_login(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")


def test_an_unauthenticated_post_changes_nothing(app):
    contact_id = add_contact(app, PHONE)
    client = app.test_client()
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))
    response = client.post(f"/admin/contacts/{contact_id}/archive", data={"csrf_token": token})
    assert response.status_code == 302
    assert contact_status(app, PHONE) == "active"


def test_login_and_logout(app):
    client = logged_in(app)
    assert client.get("/admin/").status_code == 200
    page = client.get("/admin/").get_data(as_text=True)
    assert "alice (admin)" in page
    response = client.post("/admin/logout", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 302


def test_a_wrong_password_is_refused(app):
    make_staff(app)
    client = app.test_client()
    response = attempt_login(client, "alice", "nope")
    assert response.status_code == 401
    assert "Wrong name or password" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_five_wrong_passwords_in_a_row_slow_the_next_login_down(app):
    make_staff(app)
    client = app.test_client()
    for _ in range(5):
        assert attempt_login(client, "alice", "guess").status_code == 401
    # Even the right password waits now: a guesser cannot tell it found the password.
    response = attempt_login(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many failed logins" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    ("target", "landing"),
    [
        ("//evil.example.com/", "/admin/"),
        ("/\\evil.example.com/", "/admin/"),
        ("https://evil.example.com/", "/admin/"),
        ("/admin/dashboard", "/admin/dashboard"),
    ],
)
def test_the_login_form_never_redirects_to_another_site(app, target, landing):
    make_staff(app)
    response = attempt_login(app.test_client(), "alice", PASSWORD, next=target)
    assert response.headers["Location"] == landing


def test_cookies_and_headers_are_locked_down(make_app):
    app = make_app(**TWILIO, SESSION_COOKIE_SECURE=True)
    make_staff(app)
    client = app.test_client()
    page = client.get("/admin/login")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    response = attempt_login(client, "alice", PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie


def test_create_staff_reads_the_password_from_standard_input(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-staff", "bob", "--role", "agent"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    too_short = runner.invoke(args=["create-staff", "carol"], input="short\n")
    assert too_short.exit_code != 0
    assert "at least 10 characters" in too_short.output
    again = runner.invoke(args=["create-staff", "bob"], input=PASSWORD + "\n")
    assert "exists already" in again.output
    client = app.test_client()
    assert attempt_login(client, "bob", PASSWORD).status_code == 302
    assert "bob (agent)" in client.get("/admin/").get_data(as_text=True)


# --- CSRF and escaping ------------------------------------------------------------------------


def test_a_form_posted_without_its_csrf_token_is_refused(app):
    contact_id = add_contact(app, PHONE)
    client = logged_in(app)
    response = client.post(f"/admin/contacts/{contact_id}/archive", data={"reason": "x"})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert contact_status(app, PHONE) == "active"
    forged = client.post(
        f"/admin/contacts/{contact_id}/archive", data={"reason": "x", "csrf_token": "forged"}
    )
    assert forged.status_code == 400
    assert contact_status(app, PHONE) == "active"


def test_a_message_body_with_a_script_is_shown_as_text(app):
    text_in(app, PHONE, "<script>alert('pwned')</script>")
    contact_id = add_contact(app, PHONE)
    client = logged_in(app)
    page = client.get(f"/admin/contacts/{contact_id}").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in page


def test_a_name_with_markup_is_escaped_in_the_list(app):
    add_contact(app, PHONE, name="<b onmouseover=x>Eve</b>")
    page = logged_in(app).get("/admin/").get_data(as_text=True)
    assert "<b onmouseover" not in page
    assert "&lt;b onmouseover=x&gt;Eve&lt;/b&gt;" in page


# --- folders, search, pages -------------------------------------------------------------------


def _phones(html: str) -> list[str]:
    return re.findall(r'aria-label="Select (\+\d+)"', html)


def _count(html: str, folder: str) -> int:
    match = re.search(rf'data-folder="{folder}">\w+\s*<span class="count">([\d,]+)</span>', html)
    assert match, folder
    return int(match.group(1).replace(",", ""))


def test_folders_show_their_counts_as_contacts_move_and_go(app):
    client = logged_in(app)
    ids = [add_contact(app, f"+1415555{n:04d}") for n in range(6)]
    add_contact(app, "+14155559990", status="stopped")
    add_contact(app, "+14155559991", status="blocked")
    page = client.get("/admin/").get_data(as_text=True)
    assert [_count(page, f) for f in ("active", "stopped", "blocked", "archived")] == [6, 1, 1, 0]
    post_page_form(
        client,
        f"/admin/contacts/{ids[0]}/archive",
        f"/admin/contacts/{ids[0]}/archive",
        {"reason": "gone"},
    )
    post_page_form(
        client,
        f"/admin/contacts/{ids[0]}/delete",
        f"/admin/contacts/{ids[0]}/delete",
        {"confirm_delete": "y"},
    )
    post_page_form(
        client, f"/admin/contacts/{ids[1]}/archive", f"/admin/contacts/{ids[1]}/archive", {}
    )
    page = client.get("/admin/").get_data(as_text=True)
    assert [_count(page, f) for f in ("active", "stopped", "blocked", "archived")] == [4, 1, 1, 1]


@pytest.mark.parametrize(
    "typed", ["+14155550100", "(415) 555-0100", "415.555.0100", "+1 415 555 0100", "4155550100"]
)
def test_a_number_is_found_however_it_is_typed(app, typed):
    add_contact(app, PHONE, status="stopped")
    add_contact(app, "+14155550101")
    page = logged_in(app).get(query(q=typed)).get_data(as_text=True)
    # A whole number finds that person in whatever folder they are.
    assert _phones(page) == [PHONE]


def test_a_partial_number_and_a_name_search_within_the_folder(app):
    add_contact(app, "+14155550100", name="Ada Lovelace")
    add_contact(app, "+14155550101", name="adam smith")
    add_contact(app, "+12125550102", name="Grace")
    client = logged_in(app)
    assert sorted(_phones(client.get(query(q="415555")).get_data(as_text=True))) == [
        "+14155550100",
        "+14155550101",
    ]
    assert sorted(_phones(client.get(query(q="ADA")).get_data(as_text=True))) == [
        "+14155550100",
        "+14155550101",
    ]
    assert _phones(client.get(query(q="grace")).get_data(as_text=True)) == ["+12125550102"]
    assert _phones(client.get(query(q="50%")).get_data(as_text=True)) == []


def test_search_by_last_seen(app):
    add_contact(app, "+14155550100", last_seen_on=datetime(2024, 6, 1, tzinfo=UTC))
    add_contact(app, "+14155550101", last_seen_on=datetime(2025, 6, 1, tzinfo=UTC))
    add_contact(app, "+14155550102")
    client = logged_in(app)
    assert _phones(client.get(query(seen_before="2025-01-01")).get_data(as_text=True)) == [
        "+14155550100"
    ]
    assert _phones(client.get(query(seen_after="2025-01-01")).get_data(as_text=True)) == [
        "+14155550101"
    ]
    assert _phones(client.get(query(never_seen="y")).get_data(as_text=True)) == ["+14155550102"]


def test_bad_search_input_is_a_400_that_says_why(app):
    client = logged_in(app)
    response = client.get(query(seen_before="yesterday"))
    assert response.status_code == 400
    assert "is not a date like 2025-01-31" in response.get_data(as_text=True)
    assert client.get(query(folder="deleted")).status_code == 400
    assert client.get(query(cursor="abc")).status_code == 400


@pytest.mark.parametrize("args", [{}, {"seen_before": "2026-01-01"}])
def test_keyset_pages_cover_every_contact_once(app, args):
    for n in range(120):
        add_contact(app, f"+1415555{n:04d}", last_seen_on=datetime(2025, 1, 1 + n % 28, tzinfo=UTC))
    client = logged_in(app)
    seen: list[str] = []
    path = query(**args)
    pages = 0
    while path:
        html = client.get(path).get_data(as_text=True)
        seen += _phones(html)
        pages += 1
        match = re.search(r'rel="next" href="([^"]+)"', html)
        path = match.group(1).replace("&amp;", "&") if match else None
    assert pages == 3
    assert sorted(seen) == sorted(f"+1415555{n:04d}" for n in range(120))


# --- one contact ------------------------------------------------------------------------------


def test_reactivating_someone_who_texted_stop_needs_their_renewed_consent(app):
    text_in(app, PHONE, "hello")
    text_in(app, PHONE, "Stop")
    assert contact_status(app, PHONE) == "stopped"
    contact_id = add_contact(app, PHONE)
    client = logged_in(app)
    path = f"/admin/contacts/{contact_id}/reactivate"
    page = client.get(path).get_data(as_text=True)
    assert re.search(r"This person texted Stop on \d{4}-\d\d-\d\d \d\d:\d\d UTC via twilio", page)
    assert "itself blocks texts" not in page

    refused = post_page_form(client, path, path, {"reason": "asked on the phone"})
    assert refused.status_code == 400
    assert "renewed consent" in refused.get_data(as_text=True)
    no_reason = post_page_form(client, path, path, {"confirm_consent": "y"})
    assert no_reason.status_code == 400
    assert contact_status(app, PHONE) == "stopped"

    done = post_page_form(
        client, path, path, {"reason": "asked on the phone", "confirm_consent": "y"}
    )
    assert done.status_code == 302
    assert contact_status(app, PHONE) == "active"
    event = _events(app, contact_id)[-1]
    assert (event.old_value, event.new_value, event.source, event.actor) == (
        "stopped",
        "active",
        "staff",
        "alice",
    )
    assert "asked on the phone" in event.reason and "renewed consent" in event.reason
    timeline = client.get(f"/admin/contacts/{contact_id}").get_data(as_text=True)
    assert "asked on the phone" in timeline and "<b>alice</b>" in timeline


def test_unblocking_someone_who_opted_out_while_blocked_says_so(app):
    contact_id = add_contact(app, PHONE, status="blocked")
    text_in(app, PHONE, "STOP")
    client = logged_in(app)
    path = f"/admin/contacts/{contact_id}/unblock"
    page = client.get(path).get_data(as_text=True)
    assert "This person texted STOP on" in page
    assert "returns as <b>stopped</b>" in page
    response = post_page_form(client, path, path, {"reason": "not spam after all"})
    assert response.status_code == 302
    assert contact_status(app, PHONE) == "stopped"
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "returns as stopped" in followed


def test_a_non_archived_contact_cannot_be_deleted_from_the_page(app):
    contact_id = add_contact(app, PHONE)
    client = logged_in(app)
    page = client.get(f"/admin/contacts/{contact_id}").get_data(as_text=True)
    assert f"/admin/contacts/{contact_id}/delete" not in page
    token = csrf_token(page)
    response = client.post(
        f"/admin/contacts/{contact_id}/delete", data={"confirm_delete": "y", "csrf_token": token}
    )
    assert response.status_code == 409
    assert "only archived contacts can be deleted" in response.get_data(as_text=True)
    assert contact_status(app, PHONE) == "active"


def test_deleting_an_archived_contact_needs_the_final_confirmation(app):
    contact_id = add_contact(app, PHONE, status="archived")
    client = logged_in(app)
    path = f"/admin/contacts/{contact_id}/delete"
    assert "It cannot be undone" in client.get(path).get_data(as_text=True)
    assert post_page_form(client, path, path, {}).status_code == 400
    assert contact_status(app, PHONE) == "archived"
    assert post_page_form(client, path, path, {"confirm_delete": "y"}).status_code == 302
    assert contact_status(app, PHONE) is None
    assert client.get(f"/admin/contacts/{contact_id}").status_code == 404
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        action = session.scalars(select(StaffAction)).one()
        assert (action.actor, action.action) == ("alice", "delete")
        session.close()


def test_an_agent_sees_no_delete_and_cannot_delete(app):
    contact_id = add_contact(app, PHONE, status="archived")
    client = logged_in(app, "bob", role="agent")
    page = client.get(f"/admin/contacts/{contact_id}").get_data(as_text=True)
    assert f"/admin/contacts/{contact_id}/delete" not in page
    assert "Delete" not in client.get(query(folder="archived")).get_data(as_text=True)
    response = client.post(
        f"/admin/contacts/{contact_id}/delete",
        data={"confirm_delete": "y", "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 403
    bulk = client.post(
        "/admin/bulk",
        data={
            "action": "delete",
            "ids": str(contact_id),
            "confirm_delete": "y",
            "csrf_token": csrf_token(page),
        },
    )
    assert bulk.status_code == 403
    assert contact_status(app, PHONE) == "archived"


def test_mark_phone_valid_block_and_archive_record_the_staff_member(app):
    contact_id = add_contact(app, PHONE)
    with app.app_context():
        from adapter import rules

        session = app.extensions["adapter.write_sessionmaker"]()
        contact = rules.lock_contact(session, PHONE)
        rules.mark_phone_invalid(session, contact, rules.Cause(source="provider", reason="21614"))
        session.commit()
        session.close()
    client = logged_in(app)
    for action in ("phone-valid", "block", "unblock", "archive", "unarchive"):
        path = f"/admin/contacts/{contact_id}/{action}"
        assert post_page_form(client, path, path, {"reason": action}).status_code == 302
    events = _events(app, contact_id)[1:]
    assert [(e.new_value, e.source, e.actor, e.reason) for e in events] == [
        ("true", "staff", "alice", "phone-valid"),
        ("blocked", "staff", "alice", "block"),
        ("active", "staff", "alice", "unblock"),
        ("archived", "staff", "alice", "archive"),
        ("active", "staff", "alice", "unarchive"),
    ]


def test_the_consent_history_exports_as_csv(app):
    text_in(app, PHONE, '=HYPERLINK("http://x")')
    text_in(app, PHONE, "STOP")
    contact_id = add_contact(app, PHONE)
    response = logged_in(app).get(f"/admin/contacts/{contact_id}/history.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    bodies = [row["body"] for row in rows if row["record"] == "message"]
    # A spreadsheet must show the text, not run it as a formula.
    assert '\'=HYPERLINK("http://x")' in bodies
    stop = [row for row in rows if row["record"] == "event" and row["new_value"] == "stopped"]
    assert stop and stop[0]["source"] == "keyword" and stop[0]["channel"] == "twilio"


# --- bulk jobs --------------------------------------------------------------------------------


def test_archiving_a_dormant_search_in_bulk_runs_as_a_job(app):
    old = datetime(2024, 3, 1, tzinfo=UTC)
    dormant = [add_contact(app, f"+1415555{n:04d}", last_seen_on=old) for n in range(25)]
    recent = add_contact(app, "+14155559999", last_seen_on=datetime(2025, 6, 1, tzinfo=UTC))
    client = logged_in(app)
    confirm = client.get("/admin/bulk?" + "folder=active&seen_before=2025-01-01&action=archive")
    html = confirm.get_data(as_text=True)
    assert "<b>25</b> contacts match" in html
    app.config["ADMIN_BULK_CHUNK_SIZE"] = 10
    response = client.post(
        "/admin/bulk",
        data={
            "scope": "search",
            "folder": "active",
            "seen_before": "2025-01-01",
            "action": "archive",
            "reason": "dormant",
            "csrf_token": csrf_token(html),
        },
    )
    assert response.status_code == 302
    job_path = response.headers["Location"]
    assert client.get(job_path + "/progress").get_json()["status"] == "queued"

    run_worker(app, burst=True)

    progress = client.get(job_path + "/progress").get_json()
    assert (progress["status"], progress["percent"], progress["changed"]) == ("finished", 100, 25)
    assert contact_status(app, "+14155550000") == "archived"
    assert contact_status(app, "+14155559999") == "active"
    events = _events(app, dormant[0])
    assert [(e.new_value, e.source, e.actor, e.reason) for e in events] == [
        ("archived", "bulk", "alice", "dormant")
    ]
    assert _events(app, recent) == []
    page = client.get("/admin/dashboard").get_data(as_text=True)
    assert "bulk archive (25)" in page


def test_deleting_the_selected_archived_contacts_in_bulk(app):
    archived = [add_contact(app, f"+1415555{n:04d}", status="archived") for n in range(3)]
    active = add_contact(app, "+14155559999")
    client = logged_in(app)
    html = client.get(query(folder="archived")).get_data(as_text=True)
    response = client.post(
        "/admin/bulk",
        data={
            "action": "delete",
            "ids": [*map(str, archived[:2]), str(active)],
            "confirm_delete": "y",
            "csrf_token": csrf_token(html),
        },
    )
    assert response.status_code == 302
    run_worker(app, burst=True)
    progress = client.get(response.headers["Location"] + "/progress").get_json()
    assert progress["changed"] == 2
    # The active contact in the selection is never deleted.
    assert [contact_status(app, f"+1415555{n:04d}") for n in range(3)] == [None, None, "archived"]
    assert contact_status(app, "+14155559999") == "active"


def test_bulk_delete_needs_its_confirmation_and_the_archived_folder(app):
    add_contact(app, PHONE, status="archived")
    client = logged_in(app)
    html = client.get(query(folder="archived")).get_data(as_text=True)
    unconfirmed = client.post(
        "/admin/bulk",
        data={
            "scope": "search",
            "folder": "archived",
            "action": "delete",
            "csrf_token": csrf_token(html),
        },
    )
    assert unconfirmed.status_code == 400
    wrong_folder = client.post(
        "/admin/bulk",
        data={
            "scope": "search",
            "folder": "active",
            "action": "delete",
            "confirm_delete": "y",
            "csrf_token": csrf_token(html),
        },
    )
    assert wrong_folder.status_code == 400
    assert contact_status(app, PHONE) == "archived"


# --- dashboard --------------------------------------------------------------------------------


def test_the_dashboard_splits_opt_outs_by_source(app):
    text_in(app, "+14155550100", "STOP")
    text_in(app, "+14155550101", "STOP")
    staff_stopped = add_contact(app, "+14155550102")
    client = logged_in(app)
    path = f"/admin/contacts/{staff_stopped}/block"
    post_page_form(client, path, path, {})
    add_contact(app, "+14155550103", status="stopped")
    page = client.get("/admin/dashboard").get_data(as_text=True)
    today = datetime.now(UTC).date().isoformat()
    assert f"<title>{today} keyword: 2</title>" in page
    assert f"<title>{today} system: 1</title>" in page
    assert "jobs on queue messages" in page and "jobs on queue admin" in page


def test_the_kept_folder_counts_equal_a_real_count_after_every_kind_of_change(app):
    from sqlalchemy import func

    from adapter import rules
    from adapter.admin.search import folder_counts
    from adapter.models import Contact

    for n in range(30):
        add_contact(app, f"+1415555{n:04d}", last_seen_on=datetime(2024, 1, 1, tzinfo=UTC))
    text_in(app, "+14155550003", "STOP")
    text_in(app, "+14155559000", "hello")  # a new contact from an inbound text
    with app.app_context():
        session = app.extensions["adapter.write_sessionmaker"]()
        cause = rules.Cause(source="bulk", actor="test")
        rules.bulk_set_status(session, "archived", cause, [Contact.phone < "+14155550010"])
        rules.bulk_set_status(session, "blocked", cause, [Contact.phone > "+14155550020"])
        session.commit()
        rules.bulk_delete_archived(session, [Contact.phone < "+14155550005"])
        session.commit()
        exact = dict(
            session.execute(select(Contact.status, func.count()).group_by(Contact.status)).all()
        )
        kept = {status: n for status, n in folder_counts(session).items() if n}
        session.close()
    assert kept == exact
    assert exact == {"archived": 5, "active": 11, "blocked": 10}


def test_reactivating_on_a_provider_enforced_channel_says_the_block_stays(make_app):
    app = make_app(**TWILIO, TWILIO_ENFORCES_OPT_OUT="true")
    text_in(app, PHONE, "STOP")
    contact_id = add_contact(app, PHONE)
    page = logged_in(app).get(f"/admin/contacts/{contact_id}/reactivate").get_data(as_text=True)
    assert "twilio itself blocks texts to this number until the person texts START" in page


def test_a_bulk_job_is_refused_cleanly_while_redis_is_down(make_app):
    app = make_app(**TWILIO)
    add_contact(app, PHONE)
    client = logged_in(app)
    html = client.get("/admin/").get_data(as_text=True)
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions.pop("adapter.redis", None)
    response = client.post(
        "/admin/bulk",
        data={
            "scope": "search",
            "folder": "active",
            "action": "archive",
            "csrf_token": csrf_token(html),
        },
    )
    assert response.status_code == 503
    assert "nothing was started or changed" in response.get_data(as_text=True)
    assert contact_status(app, PHONE) == "active"
