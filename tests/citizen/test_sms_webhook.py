"""The aggregator webhook end to end over HTTP: look-ups, privacy of refusals, rate limits (help and malformed
texts included), the log, signed timestamps (stale requests refused), one answer per message_id, and no reply
when the exchange log cannot be written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from dancu.citizen import signing
from dancu.citizen.settings import get_citizen_settings
from dancu.citizen.sms import replies
from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.exchange.ledger_port import LedgerPort
from tests.citizen.conftest import (
    FailingWriter,
    TimeTravel,
    ledger_rows,
    make_resident,
    new_phone,
    send_sms,
    window_start,
)
from tests.exchange.helpers import unique

UNKNOWN_ID = "001099000000"


def test_owner_gets_their_record_in_ucs2(http: httpx.Client, database: Database, resident: dict[str, Any]) -> None:
    response = send_sms(http, "+84" + resident["phone"][1:], f"dc  {resident['personal_id']}")
    assert response.status_code == 200
    body = response.json()
    assert resident["full_name"] in body["reply"] and "12/04/1985" in body["reply"]
    assert "Nam" in body["reply"] and "Hà Nội" in body["reply"] and "cước viễn thông" in body["reply"]
    assert body["encoding"] == "ucs2" and "".join(body["parts"]) == body["reply"]
    assert resident["phone"] not in body["reply"]
    [entry] = ledger_rows(database, resident["personal_id"], "citizen_sms")
    assert entry.result == "answered" and entry.client_system == "VN/GOV/BCA/SMS-GATEWAY"
    assert entry.purpose == "tra cứu thông tin của chính mình"
    assert entry.fields_disclosed == ["full_name", "date_of_birth", "sex", "permanent_province"]


def test_wrong_number_reads_exactly_like_an_unknown_id(http: httpx.Client, database: Database,
                                                       resident: dict[str, Any]) -> None:
    stranger = new_phone()
    wrong = send_sms(http, stranger, f"DC {resident['personal_id']}")
    unknown = send_sms(http, new_phone(), f"DC {UNKNOWN_ID}")
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.content == unknown.content
    assert wrong.json()["reply"] == replies.NEUTRAL
    [entry] = ledger_rows(database, resident["personal_id"], "citizen_sms")
    assert entry.result == "refused" and entry.fields_disclosed == [] and entry.end_user == stranger


def test_history_lists_agencies_not_own_lookups(http: httpx.Client, resident: dict[str, Any]) -> None:
    send_sms(http, resident["phone"], f"DC {resident['personal_id']}")
    reply = send_sms(http, resident["phone"], f"DC lịch sử {resident['personal_id']}").json()["reply"]
    assert reply.startswith("CSDL dân cư: chưa có cơ quan")


def test_help_and_malformed_commands(http: httpx.Client) -> None:
    assert send_sms(http, new_phone(), "dc hd").json()["reply"] == replies.HELP
    for message in ("DC 123", "xin chao", "", "DC LS"):
        assert send_sms(http, new_phone(), message).json()["reply"] == replies.MALFORMED


def test_rate_limit_per_number(http: httpx.Client, database: Database, travel: TimeTravel) -> None:
    someone = make_resident(database)
    travel.to(window_start(datetime.now(UTC)) + timedelta(seconds=1))  # all seven in one 10-minute window
    answers = [send_sms(http, someone["phone"], f"DC {someone['personal_id']}", at=travel()).json()["reply"]
               for _ in range(7)]
    assert all(someone["full_name"] in a for a in answers[:5])
    assert answers[5] == replies.RATE_LIMITED and answers[6] is None
    other = send_sms(http, new_phone(), f"DC {UNKNOWN_ID}", at=travel()).json()["reply"]
    assert other == replies.NEUTRAL
    travel.by(seconds=600)  # the next window: answered again
    again = send_sms(http, someone["phone"], f"DC {someone['personal_id']}", at=travel()).json()["reply"]
    assert someone["full_name"] in again
    results = [(e.result, e.error_code) for e in ledger_rows(database, someone["personal_id"], "citizen_sms")]
    assert results == [("answered", None)] * 5 + [("refused", "rate_limited")] * 2 + [("answered", None)]


def test_signature_is_required(http: httpx.Client) -> None:
    assert send_sms(http, new_phone(), "DC HD", secret="wrong").status_code == 401
    assert http.post("/citizen/sms/inbound", json={"from": "1", "text": "x"}).status_code == 401


def test_the_timestamp_is_signed_and_a_stale_one_is_refused(http: httpx.Client, database: Database,
                                                             resident: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    lookup = f"DC {resident['personal_id']}"
    assert send_sms(http, resident["phone"], lookup, at=now - timedelta(seconds=290)).status_code == 200
    for moment in (now - timedelta(seconds=310), now + timedelta(seconds=310)):  # a replay later; a skewed clock
        stale = send_sms(http, resident["phone"], lookup, at=moment)
        assert stale.status_code == 401 and stale.json()["code"] == "stale_request"
        assert resident["full_name"] not in stale.text
    body = json.dumps({"from": resident["phone"], "text": lookup, "message_id": "m-1"}).encode()
    signed = signing.headers(get_citizen_settings().sms_webhook_secret, body, now - timedelta(minutes=30))
    moved = {**signed, "X-Dancu-Timestamp": str(int(now.timestamp()))}  # a fresh timestamp on an old signature
    for headers in (moved, {"X-Dancu-Signature": signed["X-Dancu-Signature"]}, {}):
        refused = http.post("/citizen/sms/inbound", content=body, headers={"content-type": "application/json",
                                                                           **headers})
        assert refused.status_code == 401 and refused.json()["code"] == "bad_signature"
    assert [e.result for e in ledger_rows(database, resident["personal_id"], "citizen_sms")] == ["answered"]


def test_a_message_id_is_answered_once(http: httpx.Client, database: Database, resident: dict[str, Any]) -> None:
    """An aggregator's retry (same message_id, signed again later) and a replay of the very request are
    taken as already answered: no look-up, no log entry, no reply, and the sender's limit is not charged."""
    lookup, message_id = f"DC {resident['personal_id']}", unique("agg-")
    first = send_sms(http, resident["phone"], lookup, message_id=message_id)
    assert resident["full_name"] in first.json()["reply"] and first.json()["duplicate"] is False
    retried = send_sms(http, resident["phone"], lookup, message_id=message_id,
                       at=datetime.now(UTC) + timedelta(seconds=5))
    assert retried.status_code == 200
    assert retried.json() == {"reply": None, "encoding": None, "parts": [], "duplicate": True}
    body = json.dumps({"from": resident["phone"], "text": lookup}).encode()  # no message_id: its signature counts
    headers = {"content-type": "application/json",
               **signing.headers(get_citizen_settings().sms_webhook_secret, body, datetime.now(UTC))}
    original = http.post("/citizen/sms/inbound", content=body, headers=headers)
    replayed = http.post("/citizen/sms/inbound", content=body, headers=headers)
    assert resident["full_name"] in original.json()["reply"] and replayed.json()["duplicate"] is True
    assert [e.result for e in ledger_rows(database, resident["personal_id"], "citizen_sms")] == ["answered"] * 2
    with database.engine.connect() as conn:
        counted = conn.execute(text("SELECT sum(count) FROM citizen_sms_rate WHERE phone = :p"),
                               {"p": resident["phone"]}).scalar_one()
    assert counted == 2


def test_help_and_malformed_texts_count_against_the_limit(http: httpx.Client, database: Database,
                                                          travel: TimeTravel) -> None:
    someone = make_resident(database)
    travel.to(window_start(datetime.now(UTC)) + timedelta(seconds=1))
    texts = ["DC HD", "xin chao", "HELP", "DC 123", "dc", "DC HD", "DC LS"]
    answers = [send_sms(http, someone["phone"], t, at=travel()).json()["reply"] for t in texts]
    assert answers[:5] == [replies.HELP, replies.MALFORMED, replies.HELP, replies.MALFORMED, replies.HELP]
    assert answers[5:] == [replies.RATE_LIMITED, None]
    refused = send_sms(http, someone["phone"], f"DC {someone['personal_id']}", at=travel())
    assert refused.json()["reply"] is None  # a look-up is past the same limit
    assert [(e.result, e.error_code, e.fields_disclosed) for e in ledger_rows(
        database, someone["personal_id"], "citizen_sms")] == [("refused", "rate_limited", [])]


def test_no_reply_when_the_exchange_log_cannot_be_written(http: httpx.Client, database: Database,
                                                          resident: dict[str, Any], broken_ledger: None) -> None:
    lookup, message_id = f"DC {resident['personal_id']}", unique("agg-")
    failed = send_sms(http, resident["phone"], lookup, message_id=message_id)
    assert failed.status_code == 503 and failed.json()["code"] == "ledger_unavailable"
    assert resident["full_name"] not in failed.text and "reply" not in failed.json()
    assert send_sms(http, new_phone(), "DC HD").json()["reply"] == replies.HELP  # help looks nothing up
    assert ledger_rows(database, resident["personal_id"], "citizen_sms") == []


def test_a_message_refused_for_want_of_the_log_is_answered_on_retry(
        http: httpx.Client, live_app: FastAPI, database: Database, resident: dict[str, Any]) -> None:
    """The 503 rolled back the message's key with its look-up: the aggregator's retry is answered."""
    lookup, message_id = f"DC {resident['personal_id']}", unique("agg-")
    healthy = live_app.state.ledger_writer
    live_app.state.ledger_writer = LedgerPort(libpq_url(database.url),
                                              factory=FailingWriter)
    try:
        assert send_sms(http, resident["phone"], lookup, message_id=message_id).status_code == 503
    finally:
        live_app.state.ledger_writer = healthy
    retried = send_sms(http, resident["phone"], lookup, message_id=message_id)
    assert retried.status_code == 200 and resident["full_name"] in retried.json()["reply"]
    assert [e.result for e in ledger_rows(database, resident["personal_id"], "citizen_sms")] == ["answered"]
