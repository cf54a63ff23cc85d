"""Each provider's lookup of a send whose answer was lost (Twilio's lives in test_outbound.py).

The reconciler asks the provider's API for the message; `responses` stands in for that API, its
answers shaped as the provider documents them (cited per section). Real database and Redis.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from provider_rows import ROWS
from support import api_caller

from adapter.db import utcnow
from adapter.lookup import iso_utc
from adapter.models import Message
from adapter.provider import OutboundRequest, SendError, Verdict
from adapter.reconcile import reconcile
from adapter.worker import run_worker
from providers import all_providers

PHONE = "+14155550100"
BODY = "Your code is 1234"


@pytest.fixture
def api_mock():  # type: ignore[no-untyped-def]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def lost_send(app, api_mock, send_url: str, api=None) -> int:  # type: ignore[no-untyped-def]
    """One API message whose send timed out waiting for the provider's answer."""
    api_mock.post(send_url, body=requests.exceptions.ReadTimeout("no answer"))
    response = (api or api_caller(app))(
        "POST", "/api/v1/messages", json={"to": PHONE, "body": BODY}
    )
    assert response.status_code == 202, response.get_json()
    run_worker(app, burst=True)
    message_id = response.get_json()["id"]
    assert message(app, message_id).status == "sending"
    return message_id


def message(app, message_id: int) -> Message:  # type: ignore[no-untyped-def]
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        found = session.get(Message, message_id)
        session.close()
        return found


def sender(row):  # type: ignore[no-untyped-def]
    """The provider's sender for ``row``'s settings, made as the worker makes it."""
    return next(p for p in all_providers() if p.name == row.name).sender(row.config)


def request(message_id: int = 41, attempt: int = 1) -> OutboundRequest:
    return OutboundRequest(
        message_id=message_id,
        to=PHONE,
        body=BODY,
        status_callback_url=None,
        attempt=attempt,
        claimed_at=utcnow() - timedelta(seconds=20),
    )


def query(call) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    return parse_qs(urlsplit(call.request.url).query)


# --- Vonage: Reports API, records matched on client_ref ---------------------------------------
# https://developer.vonage.com/en/api/reports (Load records synchronously); the record fields of
# product MESSAGES, direction outbound, as in Nexmo/api-specification definitions/reports.yml.

VONAGE = ROWS["vonage"]
VONAGE_RECORDS = "https://api.nexmo.com/v2/reports/records"


def vonage_record(uuid: str, ref: str, status: str = "submitted", code: str = "0") -> dict:
    return {
        "account_id": VONAGE.config["VONAGE_API_KEY"],
        "message_id": uuid,
        "client_ref": ref,
        "direction": "outbound",
        "from": "14155550199",
        "to": PHONE.lstrip("+"),
        "provider": "sms",
        "date_received": iso_utc(utcnow()),
        "status": status,
        "error_code": code,
        "currency": "EUR",
        "total_price": "0.0333",
    }


def vonage_records(*records: dict, next_href: str | None = None) -> dict:
    links: dict = {"self": {"href": VONAGE_RECORDS}}
    if next_href:
        links["next"] = {"href": next_href}
    return {
        "_links": links,
        "request_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "request_status": "TRUNCATED" if next_href else "SUCCESS",
        "product": "MESSAGES",
        "direction": "outbound",
        "items_count": len(records),
        "records": list(records),
    }


def test_vonage_a_lost_answer_is_found_by_its_client_ref(make_app, api_mock):
    app = make_app(**VONAGE.config, SENDING_TIMEOUT_SECONDS=0)
    message_id = lost_send(app, api_mock, VONAGE.api_url)
    ours = VONAGE.provider_id(7)
    api_mock.get(
        VONAGE_RECORDS,
        json=vonage_records(
            # The same text to the same number, for another message and for an earlier attempt.
            vonage_record(VONAGE.provider_id(1), f"message_id={message_id + 1}&attempt=1"),
            vonage_record(VONAGE.provider_id(2), f"message_id={message_id}&attempt=0"),
            vonage_record(ours, f"message_id={message_id}&attempt=1", status="delivered"),
        ),
    )
    with app.app_context():
        assert reconcile() == 1
    got = message(app, message_id)
    assert (got.status, got.provider_message_id, got.error_code) == ("delivered", ours, None)
    lookup = next(call for call in api_mock.calls if call.request.method == "GET")
    params = query(lookup)
    assert params["account_id"] == [VONAGE.config["VONAGE_API_KEY"]]
    assert (params["product"], params["direction"]) == (["MESSAGES"], ["outbound"])
    assert params["date_start"][0] < params["date_end"][0]


def test_vonage_a_rejected_record_carries_its_error_and_verdict():
    with responses.RequestsMock() as mock:
        mock.get(
            VONAGE_RECORDS,
            json=vonage_records(
                vonage_record(
                    VONAGE.provider_id(3), "message_id=41&attempt=1", status="rejected", code="9"
                )
            ),
        )
        found = sender(VONAGE).lookup(request())
    assert found is not None
    assert (found.status, found.error_code, found.verdict) == ("failed", "9", Verdict.OPTED_OUT)


def test_vonage_another_messages_record_with_the_same_text_is_not_taken():
    with responses.RequestsMock() as mock:
        mock.get(
            VONAGE_RECORDS,
            json=vonage_records(vonage_record(VONAGE.provider_id(1), "message_id=42&attempt=1")),
        )
        assert sender(VONAGE).lookup(request(41)) is None


def test_vonage_a_truncated_answer_is_read_on_to_the_next_page():
    following = f"{VONAGE_RECORDS}?account_id=abcd1234&cursor=abc&iv=def"
    with responses.RequestsMock() as mock:
        mock.get(VONAGE_RECORDS, json=vonage_records(next_href=following))
        mock.get(
            VONAGE_RECORDS,
            match=[responses.matchers.query_param_matcher({"cursor": "abc"}, strict_match=False)],
            json=vonage_records(vonage_record(VONAGE.provider_id(5), "message_id=41&attempt=1")),
        )
        found = sender(VONAGE).lookup(request())
    assert found is not None and found.provider_message_id == VONAGE.provider_id(5)


def test_vonage_a_message_not_found_is_none():
    with responses.RequestsMock() as mock:
        mock.get(VONAGE_RECORDS, json=vonage_records())
        assert sender(VONAGE).lookup(request()) is None


def test_vonage_a_failed_lookup_is_a_send_error():
    with responses.RequestsMock() as mock:
        mock.get(
            VONAGE_RECORDS,
            status=403,
            json={"title": "Forbidden", "detail": "User not authorized to query the data"},
        )
        with pytest.raises(SendError) as raised:
            sender(VONAGE).lookup(request())
    assert raised.value.code == "403"


# --- Bandwidth: List Messages, matched on number and time -------------------------------------
# https://dev.bandwidth.com/docs/messaging/getMessage and Bandwidth/python-sdk
# bandwidth/api/messages_api.py (list_messages), bandwidth/models/list_message_item.py.

BANDWIDTH = ROWS["bandwidth"]


def bandwidth_listed(
    message_id: str, status: str = "DELIVERED", code: int = 0, seconds_ago: float = 5
) -> dict:
    return {
        "messageId": message_id,
        "accountId": BANDWIDTH.config["BANDWIDTH_ACCOUNT_ID"],
        "sourceTn": BANDWIDTH.config["BANDWIDTH_FROM"],
        "destinationTn": PHONE,
        "messageStatus": status,
        "messageDirection": "OUTBOUND",
        "messageType": "sms",
        "segmentCount": 1,
        "errorCode": code,
        "receiveTime": (utcnow() - timedelta(seconds=seconds_ago)).isoformat(),
        "carrierName": "other",
        "messageSize": 27,
        "messageLength": len(BODY),
        "attachmentCount": 0,
        "recipientCount": 1,
        "campaignClass": "T",
    }


def bandwidth_list(*listed: dict) -> dict:
    return {"totalCount": len(listed), "pageInfo": {}, "messages": list(listed)}


def test_bandwidth_a_lost_answer_is_found_by_number_and_time(make_app, api_mock):
    app = make_app(**BANDWIDTH.config, SENDING_TIMEOUT_SECONDS=0)
    message_id = lost_send(app, api_mock, BANDWIDTH.api_url)
    ours = BANDWIDTH.provider_id(7)
    api_mock.get(
        BANDWIDTH.api_url,
        json=bandwidth_list(
            bandwidth_listed(ours),
            # Yesterday's message to the same number is outside the send's window.
            bandwidth_listed(BANDWIDTH.provider_id(1), seconds_ago=86400),
        ),
    )
    with app.app_context():
        assert reconcile() == 1
    got = message(app, message_id)
    assert (got.status, got.provider_message_id, got.error_code) == ("delivered", ours, None)
    params = query(next(call for call in api_mock.calls if call.request.method == "GET"))
    assert params["destinationTn"] == [PHONE]
    assert params["sourceTn"] == [BANDWIDTH.config["BANDWIDTH_FROM"]]
    assert params["messageDirection"] == ["OUTBOUND"]
    assert params["fromDateTime"][0] < params["toDateTime"][0]


def test_bandwidth_a_failed_message_carries_its_error_and_verdict():
    with responses.RequestsMock() as mock:
        mock.get(
            BANDWIDTH.api_url,
            json=bandwidth_list(bandwidth_listed(BANDWIDTH.provider_id(3), "FAILED", 4775)),
        )
        found = sender(BANDWIDTH).lookup(request())
    assert found is not None
    assert (found.status, found.error_code, found.verdict) == ("failed", "4775", Verdict.OPTED_OUT)


def test_bandwidth_two_messages_that_fit_are_not_guessed_between():
    with responses.RequestsMock() as mock:
        mock.get(
            BANDWIDTH.api_url,
            json=bandwidth_list(
                bandwidth_listed(BANDWIDTH.provider_id(1)),
                bandwidth_listed(BANDWIDTH.provider_id(2)),
            ),
        )
        assert sender(BANDWIDTH).lookup(request()) is None


def test_bandwidth_another_messages_send_is_not_taken(make_app, api_mock):
    # Ours never reached Bandwidth; the one message it lists is the next one to the same person,
    # whose answer we have: it does not settle ours.
    app = make_app(**BANDWIDTH.config, SENDING_TIMEOUT_SECONDS=0)
    theirs = BANDWIDTH.provider_id(8)
    status, payload = BANDWIDTH.accepted(theirs)
    api_mock.post(BANDWIDTH.api_url, json=payload, status=status)
    api = api_caller(app)
    api("POST", "/api/v1/messages", json={"to": PHONE, "body": BODY})
    run_worker(app, burst=True)
    message_id = lost_send(app, api_mock, BANDWIDTH.api_url, api)
    api_mock.get(BANDWIDTH.api_url, json=bandwidth_list(bandwidth_listed(theirs)))
    with app.app_context():
        assert reconcile() == 1
    got = message(app, message_id)
    assert (got.status, got.provider_message_id, got.error_code) == (
        "failed",
        None,
        "outcome_unknown",
    )


def test_bandwidth_a_message_not_found_is_none():
    with responses.RequestsMock() as mock:
        mock.get(BANDWIDTH.api_url, json=bandwidth_list())
        assert sender(BANDWIDTH).lookup(request()) is None


def test_bandwidth_a_failed_lookup_is_a_send_error():
    with responses.RequestsMock() as mock:
        mock.get(
            BANDWIDTH.api_url,
            status=401,
            json={"type": "unauthorized", "description": "Authentication failed"},
        )
        with pytest.raises(SendError) as raised:
            sender(BANDWIDTH).lookup(request())
    assert raised.value.code == "401"


# --- Plivo: List all messages (message detail records), matched on number and time -----------
# https://www.plivo.com/docs/sms/api/message/list-all-messages/ and plivo/plivo-python
# plivo/resources/messages.py (Messages.list), tests/resources/fixtures/messageListResponse.json.

PLIVO = ROWS["plivo"]


def plivo_record(uuid: str, state: str = "delivered", code=None, seconds_ago: float = 5) -> dict:
    return {
        "error_code": code,
        "from_number": PLIVO.config["PLIVO_FROM"],
        "message_direction": "outbound",
        "message_state": state,
        # Plivo writes its records' times with an offset, not necessarily UTC.
        "message_time": (utcnow() - timedelta(seconds=seconds_ago))
        .astimezone(timezone(timedelta(hours=5, minutes=30)))
        .isoformat(sep=" "),
        "message_type": "sms",
        "message_uuid": uuid,
        "resource_uri": f"/v1/Account/{PLIVO.config['PLIVO_AUTH_ID']}/Message/{uuid}/",
        "to_number": PHONE.lstrip("+"),
        "total_amount": "0.00250",
        "total_rate": "0.00250",
        "units": 1,
        "error_message": "",
    }


def plivo_list(*records: dict) -> dict:
    return {
        "api_id": "9506d2c0-3f08-11e7-b886-067c5485c240",
        "meta": {"limit": 20, "next": None, "offset": 0, "previous": None},
        "objects": list(records),
    }


def test_plivo_a_lost_answer_is_found_by_number_and_time(make_app, api_mock):
    app = make_app(**PLIVO.config, SENDING_TIMEOUT_SECONDS=0)
    message_id = lost_send(app, api_mock, PLIVO.api_url)
    ours = PLIVO.provider_id(7)
    api_mock.get(
        PLIVO.api_url,
        json=plivo_list(
            plivo_record(ours, "sent"),
            # Yesterday's message to the same number is outside the send's window.
            plivo_record(PLIVO.provider_id(1), seconds_ago=86400),
        ),
    )
    with app.app_context():
        assert reconcile() == 1
    got = message(app, message_id)
    assert (got.status, got.provider_message_id, got.error_code) == ("sent", ours, None)
    params = query(next(call for call in api_mock.calls if call.request.method == "GET"))
    assert params["to_number"] == [PHONE.lstrip("+")]
    assert params["from_number"] == [PLIVO.config["PLIVO_FROM"]]
    assert params["message_direction"] == ["outbound"]
    assert params["message_time__gte"][0] < params["message_time__lte"][0]


def test_plivo_a_failed_message_carries_its_error_and_verdict():
    with responses.RequestsMock() as mock:
        mock.get(
            PLIVO.api_url,
            json=plivo_list(plivo_record(PLIVO.provider_id(3), "failed", code="200")),
        )
        found = sender(PLIVO).lookup(request())
    assert found is not None
    assert (found.status, found.error_code, found.verdict) == ("failed", "200", Verdict.OPTED_OUT)


def test_plivo_two_messages_that_fit_are_not_guessed_between():
    with responses.RequestsMock() as mock:
        mock.get(
            PLIVO.api_url,
            json=plivo_list(plivo_record(PLIVO.provider_id(1)), plivo_record(PLIVO.provider_id(2))),
        )
        assert sender(PLIVO).lookup(request()) is None


def test_plivo_a_message_not_found_is_none():
    with responses.RequestsMock() as mock:
        mock.get(PLIVO.api_url, json=plivo_list())
        assert sender(PLIVO).lookup(request()) is None


def test_plivo_a_failed_lookup_is_a_send_error():
    with responses.RequestsMock() as mock:
        mock.get(PLIVO.api_url, status=429, json={"error": "too many requests"})
        with pytest.raises(SendError) as raised:
            sender(PLIVO).lookup(request())
    assert (raised.value.code, raised.value.verdict) == ("429", Verdict.TRANSIENT)


# --- Telnyx: Detail Records search, matched on the status URL the send named ------------------
# https://developers.telnyx.com/api-reference/detail-records/search-detail-records,
# https://developers.telnyx.com/docs/messaging/messages/message-detail-records and
# team-telnyx/telnyx-python src/telnyx/types/detail_record_list_response.py (MessageDetailRecord).

TELNYX = ROWS["telnyx"]
TELNYX_RECORDS = "https://api.telnyx.com/v2/detail_records"


def telnyx_record(uuid: str, our_id: int, attempt: int = 1, status=None, errors=()) -> dict:
    webhook = (
        f"{TELNYX.config['PUBLIC_BASE_URL']}/telnyx/status?message_id={our_id}&attempt={attempt}"
    )
    return {
        "record_type": "message_detail_record",
        "uuid": uuid,
        "created_at": iso_utc(utcnow()),
        "updated_at": iso_utc(utcnow()),
        "cld": PHONE,
        "cli": TELNYX.config["TELNYX_FROM"],
        "direction": "outbound",
        "delivery_status_webhook_url": webhook,
        "message_type": "SMS",
        "parts": 1,
        "profile_id": TELNYX.config["TELNYX_MESSAGING_PROFILE_ID"],
        "status": status,
        "errors": list(errors),
        "rate": "0.003",
        "currency": "USD",
        "cost": "0.003",
    }


def telnyx_records(*records: dict) -> dict:
    return {
        "data": list(records),
        "meta": {
            "page_number": 1,
            "page_size": 50,
            "total_pages": 1,
            "total_results": len(records),
        },
    }


def test_telnyx_a_lost_answer_is_found_by_the_status_url_it_named(make_app, api_mock):
    app = make_app(**TELNYX.config, SENDING_TIMEOUT_SECONDS=0)
    message_id = lost_send(app, api_mock, TELNYX.api_url)
    ours = TELNYX.provider_id(7)
    api_mock.get(
        TELNYX_RECORDS,
        json=telnyx_records(
            # The same text to the same number, for another message and for an earlier attempt.
            telnyx_record(TELNYX.provider_id(1), message_id + 1),
            telnyx_record(TELNYX.provider_id(2), message_id, attempt=0),
            telnyx_record(ours, message_id, status="delivered"),
        ),
    )
    with app.app_context():
        assert reconcile() == 1
    got = message(app, message_id)
    assert (got.status, got.provider_message_id, got.error_code) == ("delivered", ours, None)
    params = query(next(call for call in api_mock.calls if call.request.method == "GET"))
    assert params["filter[record_type]"] == ["messaging"]
    assert params["filter[direction]"] == ["outbound"]
    assert params["filter[cld]"] == [PHONE]
    assert params["filter[created_at][gte]"][0] < params["filter[created_at][lt]"][0]


def test_telnyx_a_record_not_yet_final_reads_as_sent():
    with responses.RequestsMock() as mock:
        mock.get(TELNYX_RECORDS, json=telnyx_records(telnyx_record(TELNYX.provider_id(4), 41)))
        found = sender(TELNYX).lookup(request())
    assert found is not None
    assert (found.provider_message_id, found.status) == (TELNYX.provider_id(4), "sent")


def test_telnyx_a_failed_record_carries_its_error_and_verdict():
    with responses.RequestsMock() as mock:
        mock.get(
            TELNYX_RECORDS,
            json=telnyx_records(
                telnyx_record(TELNYX.provider_id(3), 41, status="failed", errors=["40300"])
            ),
        )
        found = sender(TELNYX).lookup(request())
    assert found is not None
    assert (found.status, found.error_code, found.verdict) == ("failed", "40300", Verdict.OPTED_OUT)


def test_telnyx_another_messages_record_with_the_same_text_is_not_taken():
    with responses.RequestsMock() as mock:
        mock.get(TELNYX_RECORDS, json=telnyx_records(telnyx_record(TELNYX.provider_id(1), 42)))
        assert sender(TELNYX).lookup(request(41)) is None


def test_telnyx_a_message_not_found_is_none():
    with responses.RequestsMock() as mock:
        mock.get(TELNYX_RECORDS, json=telnyx_records())
        assert sender(TELNYX).lookup(request()) is None


def test_telnyx_a_failed_lookup_is_a_send_error():
    with responses.RequestsMock() as mock:
        mock.get(
            TELNYX_RECORDS,
            status=401,
            json={"errors": [{"code": "10009", "title": "Authentication failed"}]},
        )
        with pytest.raises(SendError) as raised:
            sender(TELNYX).lookup(request())
    assert raised.value.code == "10009"
