"""Per-channel settings read through the provider's environment prefix (``<PREFIX>_...``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from .errors import ConfigurationError
from .intent import DEFAULT_LANGUAGES, Policy, parse_languages, parse_policy
from .keywords import DEFAULT_HELP, DEFAULT_OPT_IN, DEFAULT_OPT_OUT, KeywordLists
from .provider import Provider

DEFAULT_OPT_OUT_REPLY = (
    "You are unsubscribed and will receive no more messages from this number. "
    "Reply START to resubscribe."
)
DEFAULT_OPT_IN_REPLY = (
    "You are resubscribed and will receive messages again. Reply STOP to unsubscribe."
)
DEFAULT_HELP_REPLY = (
    "Reply STOP to unsubscribe or START to resubscribe. Msg & data rates may apply."
)
# The clarification after an opt-out request in a sentence under the ``ask`` policy (SPEC §3).
DEFAULT_OPT_OUT_INTENT_REPLY = "Reply STOP to stop all messages from us."


@dataclass(frozen=True)
class ChannelSettings:
    name: str
    # The provider itself blocks sends to opted-out numbers and answers keywords: the adapter
    # then sends no keyword replies, and only an opt-in lifts a stop.
    enforces_opt_out: bool
    keywords: KeywordLists
    opt_out_reply: str
    opt_in_reply: str
    help_reply: str
    # What an opt-out request written as a sentence does (SPEC §3), and the grammars that read
    # the channel's messages, in order.
    opt_out_intent: Policy = Policy.ASK
    intent_languages: tuple[str, ...] = DEFAULT_LANGUAGES
    opt_out_intent_reply: str = DEFAULT_OPT_OUT_INTENT_REPLY


def _words(value: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    words = tuple(word.strip() for word in str(value or "").split(",") if word.strip())
    # A setting left blank (or only commas) keeps the default: an empty opt-out list would
    # silently stop honouring STOP.
    return words or default


def _text(value: Any, default: str) -> str:
    # A blank reply would be sent as an empty SMS, which says nothing to the person.
    return str(value or "").strip() or default


def load_channel_settings(provider: Provider, config: Mapping[str, Any]) -> ChannelSettings:
    """Settings of ``provider``'s channel from ``config``: ``<PREFIX>_OPT_OUT_KEYWORDS``,
    ``<PREFIX>_OPT_IN_KEYWORDS``, ``<PREFIX>_HELP_KEYWORDS`` (comma separated; each replaces its
    default list), ``<PREFIX>_OPT_OUT_REPLY``, ``<PREFIX>_OPT_IN_REPLY``,
    ``<PREFIX>_HELP_REPLY``, ``<PREFIX>_OPT_OUT_INTENT`` (``ask``, ``stop`` or ``flag``),
    ``<PREFIX>_OPT_OUT_INTENT_LANGUAGES``, ``<PREFIX>_OPT_OUT_INTENT_REPLY``. Unset or blank
    settings keep the defaults; a value the adapter cannot use raises
    :class:`~adapter.errors.ConfigurationError` naming the setting."""
    prefix = f"{provider.env_prefix}_"

    def setting(name: str) -> Any:
        return config.get(prefix + name)

    try:
        policy = parse_policy(setting("OPT_OUT_INTENT"))
        languages = parse_languages(setting("OPT_OUT_INTENT_LANGUAGES"))
    except ValueError as exc:
        # The parsers name the setting without its prefix; the operator needs the variable.
        raise ConfigurationError(f"{prefix}{exc}") from None

    return ChannelSettings(
        name=provider.name,
        enforces_opt_out=provider.enforces_opt_out(config),
        keywords=KeywordLists.of(
            opt_out=_words(setting("OPT_OUT_KEYWORDS"), DEFAULT_OPT_OUT),
            opt_in=_words(setting("OPT_IN_KEYWORDS"), DEFAULT_OPT_IN),
            help=_words(setting("HELP_KEYWORDS"), DEFAULT_HELP),
        ),
        opt_out_reply=_text(setting("OPT_OUT_REPLY"), DEFAULT_OPT_OUT_REPLY),
        opt_in_reply=_text(setting("OPT_IN_REPLY"), DEFAULT_OPT_IN_REPLY),
        help_reply=_text(setting("HELP_REPLY"), DEFAULT_HELP_REPLY),
        opt_out_intent=policy,
        intent_languages=languages,
        opt_out_intent_reply=_text(setting("OPT_OUT_INTENT_REPLY"), DEFAULT_OPT_OUT_INTENT_REPLY),
    )


def check_channel_settings(app: Flask) -> None:
    """Read every channel's settings at start, so that a mistyped value stops the app with a
    message naming it instead of failing the first inbound message that needs it."""
    cache = app.extensions.setdefault("adapter.channel_settings", {})
    for name, provider in app.extensions["adapter.providers"].items():
        cache[name] = load_channel_settings(provider, app.config)


def channel_settings(channel: str) -> ChannelSettings:
    """The current app's settings for ``channel``, read once per app."""
    cache: dict[str, ChannelSettings] = current_app.extensions.setdefault(
        "adapter.channel_settings", {}
    )
    if channel not in cache:
        provider = current_app.extensions["adapter.providers"][channel]
        cache[channel] = load_channel_settings(provider, current_app.config)
    return cache[channel]
