"""The admin page's routes: login, folders and search, the contact page and its actions, bulk
jobs and their progress, the dashboard."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError
from redis.exceptions import RedisError
from sqlalchemy import func, select

from .. import rules
from ..db import get_session
from ..errors import AdapterError, DeletionRefused, InvalidRequest
from ..models import Contact, ContactStatus, EventSource, Message
from . import accounts, blueprint, bulk, csrf, dashboard, history, search
from .actions import ACTIONS, available
from .forms import ActionForm, BulkForm, LoginForm, LogoutForm
from .models import StaffAction

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
PUBLIC_ENDPOINTS = frozenset({"admin.login", "admin.static"})


@blueprint.before_request
def _guard() -> Any:
    g.admin_started = time.perf_counter()
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        from . import login_manager

        return login_manager.unauthorized()
    return None


@blueprint.after_request
def _headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    started = g.get("admin_started")
    if started is not None:
        # The server's own time for the page, for browsers' developer tools and bench/.
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


@blueprint.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError) -> Any:
    return _error(
        400,
        "This form was not sent from the admin page (its security token is missing or "
        "expired). Go back, reload the page and try again.",
    )


@blueprint.errorhandler(RedisError)
def _redis_down(exc: RedisError) -> Any:
    log.warning("admin page: Redis does not answer (%s)", exc.__class__.__name__)
    return _error(
        503,
        "The job queue (Redis) does not answer, so nothing was started or changed. "
        "Try again in a moment.",
    )


@blueprint.errorhandler(DeletionRefused)
def _deletion_refused(exc: DeletionRefused) -> Any:
    return _error(409, exc.message)


@blueprint.errorhandler(AdapterError)
def _adapter_error(exc: AdapterError) -> Any:
    return _error(400, exc.message)


def _error(status: int, message: str) -> Any:
    return render_template("admin/error.html", message=message, status=status), status


def _region() -> str | None:
    return current_app.config.get("DEFAULT_REGION")


@blueprint.app_template_filter("when")
def _when(value: Any) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "never"


@blueprint.app_context_processor
def _layout() -> dict[str, Any]:
    if request.blueprint != "admin":
        return {}
    return {"logout_form": LogoutForm(), "folders": search.FOLDERS}


# --- login ------------------------------------------------------------------------------------


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        address = request.remote_addr or "unknown"
        wait = accounts.login_wait(form.name.data, address)
        if wait:
            minutes = max(1, round(wait / 60))
            message = (
                "Too many failed logins for this name or from this address. "
                f"Try again in about {minutes} minute{'s' if minutes > 1 else ''}."
            )
            response = render_template("admin/login.html", form=form, error=message)
            return response, 429, {"Retry-After": str(wait)}
        session = get_session()
        staff = accounts.authenticate(session, form.name.data, form.password.data)
        if staff is None:
            accounts.record_failure(form.name.data, address)
            session.rollback()
            log.info("failed admin login")
            error = "Wrong name or password."
            return render_template("admin/login.html", form=form, error=error), 401
        session.commit()
        accounts.clear_failures(form.name.data)
        login_user(staff)
        log.info("staff %s logged in", staff.id)
        return redirect(_safe_next(form.next.data))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/login.html", form=form, error=None), status


def _safe_next(target: str | None) -> str:
    # Only paths of this site: never an open redirect to another host ("//host" and "/\\host"
    # are other hosts to a browser).
    if target and target.startswith("/") and target[1:2] not in ("/", "\\"):
        return target
    return url_for("admin.contacts")


@blueprint.post("/logout")
def logout() -> Any:
    logout_user()
    return redirect(url_for("admin.login"))


# --- folders and search -----------------------------------------------------------------------


@blueprint.get("/")
@login_required
def contacts() -> Any:
    criteria = search.parse_criteria(request.args, _region())
    session = get_session()
    found = search.page(session, criteria, request.args.get("cursor"), _region())
    form = BulkForm()
    form.action.choices = _bulk_choices(criteria.folder)
    return render_template(
        "admin/contacts.html",
        criteria=criteria,
        page=found,
        counts=search.folder_counts(session),
        bulk_form=form,
    )


def _bulk_choices(folder: ContactStatus | None) -> list[tuple[str, str]]:
    choices = []
    for action in bulk.BULK_ACTIONS.values():
        if action.admin_only and not current_user.may_delete:
            continue
        if action.target is None and folder not in (None, ContactStatus.ARCHIVED):
            continue
        if action.target is not None and action.target == folder:
            continue
        choices.append((action.name, action.label))
    return choices


# --- one contact ------------------------------------------------------------------------------


def _contact(contact_id: int, lock: bool = False) -> Contact:
    session = get_session()
    if lock:
        contact = session.scalars(
            select(Contact).where(Contact.id == contact_id).with_for_update()
        ).first()
    else:
        contact = session.get(Contact, contact_id)
    if contact is None:
        abort(404, "no such contact (it may have been deleted)")
    return contact


@blueprint.get("/contacts/<int:contact_id>")
@login_required
def contact(contact_id: int) -> Any:
    session = get_session()
    found = _contact(contact_id)
    return render_template(
        "admin/contact.html",
        contact=found,
        timeline=history.timeline(session, found),
        limit=history.TIMELINE_LIMIT,
        actions=available(found, current_user.may_delete),
        notice=history.opt_out_notice(session, found),
        intent_notice=history.intent_notice(session, found),
    )


@blueprint.get("/contacts/<int:contact_id>/history.csv")
@login_required
def export_history(contact_id: int) -> Any:
    found = _contact(contact_id)
    body = history.history_csv(get_session(), found)
    filename = f"consent-history-{found.phone.lstrip('+')}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@blueprint.route("/contacts/<int:contact_id>/<action_name>", methods=["GET", "POST"])
@login_required
def contact_action(contact_id: int, action_name: str) -> Any:
    action = ACTIONS.get(action_name)
    if action is None:
        abort(404, f"no action {action_name!r}")
    session = get_session()
    found = _contact(contact_id, lock=request.method == "POST")
    if action.admin_only and not current_user.may_delete:
        return _error(403, "Only admin staff may delete contacts.")
    if not action.allowed(found):
        return _error(409, f"{found.phone} is {found.status}: {action.refusal}.")
    notice = history.opt_out_notice(session, found)
    needs_consent = action.name == "reactivate" and notice is not None
    form = ActionForm()
    problems: list[str] = []
    if request.method == "POST" and form.validate():
        reason = (form.reason.data or "").strip()
        if action.reason_required and not reason:
            problems.append("Give a reason: it is kept in the contact's history.")
        if needs_consent and not form.confirm_consent.data:
            problems.append("Confirm that you have this person's renewed consent.")
        if action.danger and not form.confirm_delete.data:
            problems.append("Tick the box to confirm that the deletion cannot be undone.")
        if not problems:
            return _apply(action, found, reason, needs_consent)
    elif request.method == "POST":
        problems.extend(error for errors in form.errors.values() for error in errors)
    messages = 0
    if action.danger:
        messages = session.scalar(
            select(func.count()).select_from(Message).where(Message.contact_id == found.id)
        )
    status = 400 if problems else 200
    return render_template(
        "admin/confirm.html",
        contact=found,
        action=action,
        form=form,
        notice=notice,
        needs_consent=needs_consent,
        provider_note=history.provider_block_note(session, found) if needs_consent else None,
        problems=problems,
        messages=messages,
    ), status


def _apply(action: Any, contact: Contact, reason: str, consent_confirmed: bool) -> Any:
    session = get_session()
    actor = current_user.name
    if action.run is None:
        phone = contact.phone
        rules.delete_contact(session, contact)
        session.add(
            StaffAction(actor=actor, action="delete", detail=f"contact #{contact.id}", count=1)
        )
        session.commit()
        flash(f"Deleted {phone} with its messages and history.")
        return redirect(url_for("admin.contacts", folder=ContactStatus.ARCHIVED.value))
    if consent_confirmed:
        reason = f"{reason} [staff confirmed the person's renewed consent]"
    cause = rules.Cause(source=EventSource.STAFF, actor=actor, reason=reason or None)
    event = action.run(session, contact, cause)
    session.commit()
    returned_stopped = event is not None and event.new_value == ContactStatus.STOPPED
    if returned_stopped and action.name in ("unblock", "unarchive"):
        flash(f"The person opted out meanwhile, so the contact returns as {event.new_value}.")
    flash(f"{action.label}: done.")
    return redirect(url_for("admin.contact", contact_id=contact.id))


# --- bulk -------------------------------------------------------------------------------------


@blueprint.get("/bulk")
@login_required
def bulk_confirm() -> Any:
    criteria = search.parse_criteria(request.args, _region())
    form = BulkForm(scope="search")
    form.action.choices = _bulk_choices(criteria.folder)
    wanted = request.args.get("action")
    if wanted in dict(form.action.choices):
        form.action.data = wanted
    total = search.count(get_session(), criteria, _region())
    return render_template("admin/bulk_confirm.html", criteria=criteria, form=form, total=total)


@blueprint.post("/bulk")
@login_required
def bulk_start() -> Any:
    form = BulkForm()
    if not form.validate():
        raise InvalidRequest("; ".join(e for errors in form.errors.values() for e in errors))
    action = bulk.BULK_ACTIONS.get(form.action.data or "")
    if action is None:
        raise InvalidRequest("choose an action for the selected contacts")
    if action.admin_only and not current_user.may_delete:
        return _error(403, "Only admin staff may delete contacts.")
    if action.target is None and not form.confirm_delete.data:
        raise InvalidRequest("tick the box to confirm that deletion cannot be undone")
    reason = (form.reason.data or "").strip() or None
    if form.scope.data == "search":
        criteria = search.parse_criteria(request.form, _region())
        if action.target is None and criteria.folder != ContactStatus.ARCHIVED:
            raise InvalidRequest(
                "only archived contacts can be deleted: search the Archived folder"
            )
        job_id = bulk.enqueue(
            action,
            current_user.name,
            reason,
            criteria=criteria.as_args(),
            description=f"all {criteria.describe()}",
        )
    else:
        try:
            ids = sorted({int(value) for value in request.form.getlist("ids")})
        except ValueError:
            raise InvalidRequest("the selection is not a list of contacts") from None
        if not ids:
            raise InvalidRequest("select at least one contact first")
        if len(ids) > 1000:
            raise InvalidRequest("select at most 1000 contacts, or act on the whole search")
        job_id = bulk.enqueue(
            action,
            current_user.name,
            reason,
            ids=ids,
            description=f"{len(ids)} selected contact{'s' if len(ids) > 1 else ''}",
        )
    return redirect(url_for("admin.job", job_id=job_id))


@blueprint.get("/jobs/<job_id>")
@login_required
def job(job_id: str) -> Any:
    found = bulk.fetch(job_id)
    if found is None:
        abort(404, "no such job (finished jobs are kept for a day)")
    return render_template("admin/job.html", job_id=job_id, progress=bulk.progress(found))


@blueprint.get("/jobs/<job_id>/progress")
@login_required
def job_progress(job_id: str) -> Any:
    found = bulk.fetch(job_id)
    if found is None:
        return jsonify(error="no such job"), 404
    return jsonify(bulk.progress(found))


# --- dashboard --------------------------------------------------------------------------------


@blueprint.get("/dashboard")
@login_required
def dashboard_page() -> Any:
    session = get_session()
    figures = dashboard.figures(session)
    recent = session.scalars(select(StaffAction).order_by(StaffAction.id.desc()).limit(20))
    return render_template(
        "admin/dashboard.html",
        figures=figures,
        chart=dashboard.opt_out_chart(figures),
        counts=search.folder_counts(session),
        recent=list(recent),
    )
