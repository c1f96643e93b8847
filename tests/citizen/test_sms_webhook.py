"""The aggregator webhook end to end over HTTP: look-ups, privacy of refusals, rate limits, the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from dancu.citizen.sms import replies
from dancu.db import Database
from tests.citizen.conftest import TimeTravel, ledger_rows, make_resident, new_phone, send_sms, window_start

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
    answers = [send_sms(http, someone["phone"], f"DC {someone['personal_id']}").json()["reply"] for _ in range(7)]
    assert all(someone["full_name"] in a for a in answers[:5])
    assert answers[5] == replies.RATE_LIMITED and answers[6] is None
    other = send_sms(http, new_phone(), f"DC {UNKNOWN_ID}").json()["reply"]
    assert other == replies.NEUTRAL
    travel.by(seconds=600)  # the next window: answered again
    assert someone["full_name"] in send_sms(http, someone["phone"], f"DC {someone['personal_id']}").json()["reply"]
    results = [(e.result, e.error_code) for e in ledger_rows(database, someone["personal_id"], "citizen_sms")]
    assert results == [("answered", None)] * 5 + [("refused", "rate_limited")] * 2 + [("answered", None)]


def test_signature_is_required(http: httpx.Client) -> None:
    assert send_sms(http, new_phone(), "DC HD", secret="wrong").status_code == 401
    assert http.post("/citizen/sms/inbound", json={"from": "1", "text": "x"}).status_code == 401
