"""The Flask app factory."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from . import app_events
from .channels import check_channel_settings
from .config import load_config
from .db import close_session, make_engine, make_sessionmaker
from .errors import ConfigurationError
from .inputs import MAX_ID
from .provider import Provider, missing_settings
from .schema import check_schema


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: configuration from the environment (SPEC §5), then ``config`` overrides.

    Outside the ``flask`` CLI the database must be at the newest migration, or this raises
    :class:`~adapter.errors.SchemaOutOfDate` saying which command to run. CLI commands that need
    the schema check it themselves, so that ``flask --app wsgi db upgrade`` can run at all.
    """
    _configure_logging()
    app = Flask("adapter", instance_relative_config=True)
    # Set before any route is added: every <int:...> in a URL is an id, and an id past the
    # column's range names nothing (a 404), instead of an "integer out of range" from the database.
    app.url_map.converters["int"] = _IdConverter
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    providers = _load_providers()
    app.config.update(
        load_config(
            app.instance_path,
            config,
            env_prefixes=tuple(f"{p.env_prefix}_" for p in providers.values()),
        )
    )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))

    _refuse_half_configured(providers, app.config)
    app_events.init_app(app)
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["adapter.engine"] = engine
    app.extensions["adapter.sessionmaker"] = make_sessionmaker(engine)
    app.extensions["adapter.write_sessionmaker"] = make_sessionmaker(engine, write=True)
    app.extensions["adapter.providers"] = providers
    app.extensions["adapter.channels"] = _channels(providers, app.config)
    app.extensions["adapter.channel"] = _outbound_channel(
        app.extensions["adapter.channels"], app.config
    )
    check_channel_settings(app)
    app.teardown_appcontext(close_session)

    if app.config.get("SCHEMA_CHECK") and click.get_current_context(silent=True) is None:
        check_schema(engine)

    from . import admin, api, health, metrics

    app.register_blueprint(api.blueprint)
    app.wsgi_app = api.JsonBodies(app.wsgi_app)  # type: ignore[method-assign]
    app.register_blueprint(health.blueprint)
    app.register_blueprint(metrics.blueprint)
    app.register_blueprint(admin.blueprint)
    for provider in providers.values():
        blueprint = provider.blueprint()
        if blueprint is not None:
            app.register_blueprint(blueprint)
    app.register_error_handler(HTTPException, _json_errors_for_api)

    from . import cli

    cli.register(app)
    return app


class _IdConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _configure_logging() -> None:
    """Log to stderr at LOG_LEVEL (default INFO) unless the host process set logging up."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=os.environ.get("LOG_LEVEL", "INFO").upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )


def _load_providers() -> dict[str, Provider]:
    # The provider packages are found through their registry; the core names none of them.
    import providers

    return {provider.name: provider for provider in providers.all_providers()}


def _refuse_half_configured(providers: Mapping[str, Provider], config: Mapping[str, Any]) -> None:
    """Some of a provider's credentials but not all is a mistake to catch at start, not a send
    failing inside the worker later (a compliance reply must not wait on a broken channel)."""
    problems = [
        f"{name} needs {', '.join(missing)}"
        for name, provider in providers.items()
        if (missing := missing_settings(provider, config))
    ]
    if problems:
        raise ConfigurationError(
            "provider half-configured: " + "; ".join(problems) + " (set them, or unset the rest)"
        )


def _channels(providers: Mapping[str, Provider], config: Mapping[str, Any]) -> list[str]:
    """The channels outbound messages may take, in registry order: every configured provider.

    A provider that needs no settings (the development one, which only logs) is a channel only
    when no real provider is configured: a request naming it must not make a message vanish
    from a deployment that sends through a real one.
    """
    configured = [name for name, provider in providers.items() if provider.is_configured(config)]
    real = [name for name in configured if providers[name].required_settings]
    return real or configured


def _outbound_channel(channels: list[str], config: Mapping[str, Any]) -> str:
    """The channel of outbound messages whose request names none: DEFAULT_CHANNEL, else the first
    configured provider (SPEC §5)."""
    chosen = str(config.get("DEFAULT_CHANNEL") or "").strip()
    if chosen:
        if chosen not in channels:
            raise ConfigurationError(
                f"DEFAULT_CHANNEL={chosen!r} is not a configured provider; "
                f"configured: {', '.join(channels)}"
            )
        return chosen
    if not channels:
        raise RuntimeError("no SMS provider is configured")
    return channels[0]


def _instance_secret(instance: Path) -> str:
    """A secret generated once per instance folder, for deployments that set no SECRET_KEY.

    Kept on disk so that every process of one deployment signs sessions alike.
    """
    path = instance / "secret_key"
    try:
        # O_EXCL: when several processes start at once, exactly one writes the secret.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _json_errors_for_api(exc: HTTPException):  # type: ignore[no-untyped-def]
    """Applications get JSON errors even for URLs or methods the API does not have."""
    if request.path.startswith("/api/"):
        return jsonify(error=exc.description), exc.code
    return exc
