"""Configuration: environment variables (SPEC §5) with safe defaults, overridable per app."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})

# Defaults of the send path's settings, named once: modules that read a setting fall back to
# these when handed a configuration built without load_config.
SEND_CONCURRENCY = 32
PROVIDER_TIMEOUT_SECONDS = 15.0
SENDING_TIMEOUT_SECONDS = 600.0


def env_flag(value: str | bool | None, default: bool = False) -> bool:
    """Read a boolean the way operators write them in an environment file."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return value.strip().lower() in TRUE_WORDS


def load_config(
    instance_path: str,
    overrides: Mapping[str, Any] | None = None,
    env_prefixes: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Build the app's configuration from the environment, then apply ``overrides``.

    Variables named by SPEC §5 keep their exact names; everything else has a default that works on
    a developer's machine with no set-up (SQLite in the instance folder, a local Redis).
    """
    env = os.environ
    sqlite_path = Path(instance_path) / "adapter.sqlite3"
    config: dict[str, Any] = {
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{sqlite_path}",
        "REDIS_URL": env.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        "PUBLIC_BASE_URL": (env.get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
        "DEFAULT_REGION": (env.get("DEFAULT_REGION") or "US").upper(),
        # How often the worker sweeps: wakes channels whose messages waited out Redis or a retry's
        # backoff, and settles sends whose outcome is unknown.
        "SWEEP_INTERVAL_SECONDS": float(env.get("SWEEP_INTERVAL_SECONDS") or 5.0),
        # Sends one worker process keeps in flight at once.
        "SEND_CONCURRENCY": int(env.get("SEND_CONCURRENCY") or SEND_CONCURRENCY),
        # Seconds to wait for a provider's answer to a send before its outcome counts as unknown.
        "PROVIDER_TIMEOUT_SECONDS": float(
            env.get("PROVIDER_TIMEOUT_SECONDS") or PROVIDER_TIMEOUT_SECONDS
        ),
        # Seconds after which a send whose outcome nobody could establish fails as
        # `outcome_unknown` (SPEC §2).
        "SENDING_TIMEOUT_SECONDS": float(
            env.get("SENDING_TIMEOUT_SECONDS") or SENDING_TIMEOUT_SECONDS
        ),
        # Prefix of this deployment's queues and Redis keys; derived from DATABASE_URL when unset.
        "QUEUE_NAMESPACE": env.get("QUEUE_NAMESPACE") or None,
        # Events to the application (SPEC §5): where they are POSTed, the Standard Webhooks
        # secret (whsec_...) that signs them, how long a failing event is retried, and how long
        # one POST may take.
        "APP_WEBHOOK_URL": env.get("APP_WEBHOOK_URL") or None,
        "APP_WEBHOOK_SECRET": env.get("APP_WEBHOOK_SECRET") or None,
        "APP_WEBHOOK_RETRY_SECONDS": float(env.get("APP_WEBHOOK_RETRY_SECONDS") or 3 * 24 * 3600),
        "APP_WEBHOOK_TIMEOUT_SECONDS": float(env.get("APP_WEBHOOK_TIMEOUT_SECONDS") or 10),
        "SCHEMA_CHECK": True,
        # Largest request body taken, in bytes; a bigger one is refused with 413 before it is read.
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH") or 1024 * 1024),
        # Session cookies only over HTTPS; on by default when PUBLIC_BASE_URL is https.
        "SESSION_COOKIE_SECURE": env_flag(
            env.get("SESSION_COOKIE_SECURE"),
            default=(env.get("PUBLIC_BASE_URL") or "").startswith("https://"),
        ),
    }
    # Provider settings (TWILIO_*, VONAGE_*, ...) are read by the provider packages themselves;
    # each declares its prefix, and its variables are carried over untouched.
    for key, value in env.items():
        if env_prefixes and key.startswith(env_prefixes) and key not in config:
            config[key] = value
    if overrides:
        config.update(overrides)
    return config
