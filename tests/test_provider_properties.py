"""Property tests for every provider's webhooks (like issue 8's for Twilio's): a provider's own
payload with some of its fields replaced by generated values, correctly signed so the parser is
reached, never gets a 5xx, and a refused one writes nothing."""

from __future__ import annotations

import copy
import json
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from provider_rows import ROWS, Webhook
from test_properties import check, counts, json_value, url_text

# Twilio's webhooks have their own property tests in test_properties.py.
PROVIDERS = sorted(name for name in ROWS if name != "twilio")


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON document a value can be replaced at."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


def _replace(document: object, changes: dict) -> object:
    changed = copy.deepcopy(document)
    # Longest paths first, so that a replaced container does not swallow a later change inside it.
    for path, value in sorted(changes.items(), key=lambda item: -len(item[0])):
        target = changed
        try:
            for step in path[:-1]:
                target = target[step]  # type: ignore[index]
            target[path[-1]] = value  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            continue
    return changed


def _mutated(row, hook: Webhook) -> st.SearchStrategy[Webhook]:
    if hook.fields:
        # A form post: every field stays a string.
        keys = sorted(hook.fields)
        changes = st.dictionaries(st.sampled_from(keys), url_text, min_size=1, max_size=3)

        def form(change: dict) -> Webhook:
            fields = {**hook.fields, **change}
            return Webhook(hook.path, urlencode(fields).encode(), hook.headers, fields)

        return changes.map(form)
    document = json.loads(hook.body)
    changes = st.dictionaries(st.sampled_from(_paths(document)), json_value, min_size=1, max_size=3)
    return changes.map(
        lambda change: Webhook(
            hook.path, json.dumps(_replace(document, change)).encode(), hook.headers
        )
    )


@pytest.mark.parametrize("kind", ["inbound", "receipt"])
@pytest.mark.parametrize("name", PROVIDERS)
def test_signed_webhooks_with_odd_fields_never_fail(make_app, name, kind):
    row = ROWS[name]
    app = make_app(**row.config)
    if kind == "inbound":
        hook = row.inbound("+14155550100", "hello", 1)
    else:
        hook = row.receipt(
            1,
            1,
            row.provider_id(1),
            "failed",
            row.receipt_verdicts[next(iter(row.receipt_verdicts))],
        )

    @given(changed=_mutated(row, hook))
    def run(changed: Webhook) -> None:
        before = counts(app)
        signed = row.sign(changed)
        response = app.test_client().post(signed.path, data=signed.body, headers=signed.headers)
        check(app, response)
        if response.status_code >= 400:
            assert counts(app) == before, response.get_data(as_text=True)

    run()
