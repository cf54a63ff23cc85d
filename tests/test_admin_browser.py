"""The admin page in a real browser: headless Chromium (Debian's package) driven by Playwright,
against the app served on 127.0.0.1 by a real HTTP server, with a real RQ worker process running
the bulk jobs. Set ADMIN_SCREENSHOTS=docs to write the README's screenshots."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from admin_support import PASSWORD, add_contact, contact_status, make_staff, text_in
from conftest import TEST_REDIS_URL, _empty_tables
from playwright import sync_api as playwright_api
from redis import Redis
from support import TWILIO
from werkzeug.serving import make_server

from adapter import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed")
expect = playwright_api.expect


@pytest.fixture(scope="module")
def served(database_url: str) -> Iterator[tuple[object, str]]:
    """The app on a real HTTP server thread, and a real worker process beside it."""
    Redis.from_url(TEST_REDIS_URL).flushdb()
    app = create_app(
        {
            **TWILIO,
            "DATABASE_URL": database_url,
            "REDIS_URL": TEST_REDIS_URL,
            "SECRET_KEY": "browser-test-secret",
            "ADMIN_BULK_CHUNK_SIZE": 10,
        }
    )
    make_staff(app, "alice", "admin")
    make_staff(app, "bob", "agent")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("TWILIO_", "DEV_"))
    }
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=TEST_REDIS_URL,
        SECRET_KEY="browser-test",
        LOG_LEVEL="WARNING",
    )
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "worker"], cwd=ROOT, env=env
    )
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        worker.terminate()
        worker.wait(timeout=10)
        server.shutdown()
        _empty_tables(app)
        app.extensions["adapter.engine"].dispose()
        Redis.from_url(TEST_REDIS_URL).flushdb()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, served):  # type: ignore[no-untyped-def]
    _app, base_url = served
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, name: str = "alice") -> None:  # type: ignore[no-untyped-def]
    page.goto("/admin/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"{name} (")).to_be_visible()


def test_an_unauthenticated_visitor_is_sent_to_the_login(page):
    page.goto("/admin/dashboard")
    assert re.search(r"/admin/login\?next=", page.url)
    expect(page.get_by_role("heading", name="Staff login")).to_be_visible()
    # After logging in, the visitor lands where they were going.
    page.get_by_label("Name").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_archive_dormant_contacts_in_bulk_and_watch_the_progress(page, served):
    app, _ = served
    old = datetime(2024, 5, 1, tzinfo=UTC)
    for n in range(35):
        add_contact(app, f"+1415555{n:04d}", name=f"Dormant {n}", last_seen_on=old)
    add_contact(app, "+14155551999", name="Recent", last_seen_on=datetime(2025, 9, 1, tzinfo=UTC))
    log_in(page)
    page.get_by_label("Last seen before").fill("2025-01-01")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table.contacts tbody tr")).to_have_count(35)
    expect(page.get_by_text("Recent")).to_have_count(0)

    page.get_by_role("link", name="Act on all matching…").click()
    expect(page.get_by_text("35 contacts match now")).to_be_visible()
    page.get_by_label("Action").select_option("archive")
    page.get_by_label("Reason").fill("dormant since 2024")
    page.get_by_role("button", name="Start").click()

    # The bar follows the job the worker process runs, chunk by chunk, to the end.
    expect(page.locator("progress")).to_have_attribute("value", "100")
    expect(page.locator(".percent")).to_have_text("100%")
    expect(page.locator(".state")).to_have_text("finished")
    expect(page.locator(".changed")).to_have_text("35")
    assert contact_status(app, "+14155550000") == "archived"
    assert contact_status(app, "+14155551999") == "active"

    page.get_by_role("link", name="Back to contacts").click()
    expect(page.locator('[data-folder="archived"] .count')).to_have_text("35")


def test_delete_an_archived_contact(page, served):
    app, _ = served
    contact_id = add_contact(app, "+14155552000", name="Old account", status="archived")
    log_in(page)
    page.goto(f"/admin/contacts/{contact_id}")
    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_text("It cannot be undone")).to_be_visible()
    page.get_by_label("I understand that deletion cannot be undone").check()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Deleted +14155552000 with its messages and history.")).to_be_visible()
    assert contact_status(app, "+14155552000") is None


def test_reactivating_someone_who_texted_stop(page, served):
    app, _ = served
    phone = "+14155553000"
    text_in(app, phone, "hi there")
    text_in(app, phone, "STOP")
    contact_id = add_contact(app, phone)
    log_in(page)
    page.get_by_label("Number or name").fill("(415) 555-3000")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=phone).click()
    page.get_by_role("link", name="Reactivate…").click()
    warning = page.get_by_role("alert").filter(has_text="This person texted STOP on")
    expect(warning).to_contain_text("via twilio")

    # Without the confirmation of renewed consent, nothing happens.
    page.get_by_label("Reason (required)").fill("called us and asked to get texts again")
    page.get_by_role("button", name="Reactivate").click()
    expect(page.get_by_text("Confirm that you have this person's renewed consent.")).to_be_visible()
    assert contact_status(app, phone) == "stopped"

    page.get_by_label("Reason (required)").fill("called us and asked to get texts again")
    page.get_by_label("I have this person's renewed consent to receive our texts").check()
    page.get_by_role("button", name="Reactivate").click()
    assert page.url.endswith(f"/admin/contacts/{contact_id}")
    event = page.locator("li.event").first
    expect(event).to_contain_text("status: stopped → active")
    expect(event).to_contain_text("staff by alice")
    expect(event).to_contain_text("called us and asked to get texts again")
    # The STOP that came before is in the same timeline, with the message that caused it.
    expect(page.locator("li.event.source-keyword")).to_contain_text("active → stopped")
    expect(page.locator("li.message.inbound").first).to_contain_text("STOP")
    assert contact_status(app, phone) == "active"


def test_an_agent_sees_no_delete(page, served):
    app, _ = served
    contact_id = add_contact(app, "+14155554000", status="archived")
    log_in(page, "bob")
    page.goto(f"/admin/contacts/{contact_id}")
    expect(page.get_by_role("link", name="Unarchive…")).to_be_visible()
    expect(page.get_by_role("link", name="Delete…")).to_have_count(0)
    page.goto("/admin/?folder=archived")
    expect(page.locator("select#action option[value=delete]")).to_have_count(0)


def test_screenshots_for_the_readme(browser, served):
    target = os.environ.get("ADMIN_SCREENSHOTS")
    if not target:
        pytest.skip("set ADMIN_SCREENSHOTS=docs to write the README's screenshots")
    app, base_url = served
    for n in range(8):
        add_contact(
            app,
            f"+1212555{n:04d}",
            name=f"Customer {n}",
            last_seen_on=datetime(2026, 10, 1 + n, tzinfo=UTC),
        )
    text_in(app, "+12125550001", "<script>alert(1)</script> see you at 5")
    text_in(app, "+12125550002", "STOP")
    for viewport, name in (
        ({"width": 1280, "height": 800}, "admin.png"),
        ({"width": 390, "height": 844}, "admin-phone.png"),
    ):
        context = browser.new_context(base_url=base_url, viewport=viewport)
        shot = context.new_page()
        log_in(shot)
        shot.screenshot(path=str(ROOT / target / name), full_page=False)
        shot.goto("/admin/?q=%2B12125550002")
        shot.get_by_role("link", name="+12125550002").click()
        shot.screenshot(path=str(ROOT / target / name.replace("admin", "admin-contact")))
        if name == "admin.png":
            shot.goto("/admin/dashboard")
            shot.screenshot(path=str(ROOT / target / "admin-dashboard.png"), full_page=True)
        context.close()
