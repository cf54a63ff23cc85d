"""SMS provider packages. Each exposes a module-level ``provider`` (see ``adapter.provider``)."""

from __future__ import annotations

from adapter.provider import Provider


def all_providers() -> list[Provider]:
    """Every provider, in the order the outbound channel is chosen: the first configured wins,
    and the development provider, always configured, comes last."""
    from . import bandwidth, dev, plivo, telnyx, twilio, vonage

    return [
        twilio.provider,
        telnyx.provider,
        plivo.provider,
        bandwidth.provider,
        vonage.provider,
        dev.provider,
    ]
