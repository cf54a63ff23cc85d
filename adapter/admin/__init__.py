"""The admin page for support staff (SPEC §1, §4, §5 *Admin page*): `/admin/`."""

from __future__ import annotations

from flask import Blueprint, Flask
from flask.blueprints import BlueprintSetupState
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from ..db import get_session
from .accounts import create_staff_command
from .models import Staff

blueprint = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    cli_group=None,
)
blueprint.cli.add_command(create_staff_command)

login_manager = LoginManager()
login_manager.login_view = "admin.login"
login_manager.login_message = "Log in to see the admin page."
login_manager.session_protection = "strong"
csrf = CSRFProtect()


@login_manager.user_loader
def _load_staff(staff_id: str) -> Staff | None:
    try:
        return get_session().get(Staff, int(staff_id))
    except ValueError:
        return None


@blueprint.record_once
def _setup(state: BlueprintSetupState) -> None:
    app: Flask = state.app
    secure = bool(app.config.get("SESSION_COOKIE_SECURE"))
    app.config.update(
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        # CSRF is checked on the admin blueprint's requests only (see views.before_request):
        # webhooks and the JSON API are authenticated by signatures and keys instead.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,
    )
    login_manager.init_app(app)
    csrf.init_app(app)


from . import views as views  # noqa: E402  (registers the routes on the blueprint)
