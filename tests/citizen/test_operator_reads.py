"""Who used my data, when the database manager's own operators read the record: the citizen sees the manager and
the officer (never a bare client-system code), the purpose and the fields; administrative entries never show."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import psycopg
import pytest

from dancu.citizen.history import access_history
from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.ledger.domain import EntryKind
from dancu.ledger.writer import LedgerWriter
from dancu.registry import disclosure
from tests.citizen.conftest import (
    make_resident,
    register_account,
    send_sms,
)
from tests.ledger.factories import make_entry
from tests.operators.accounts import auth

MANAGER = "Cơ quan quản lý CSDL quốc gia về dân cư (Bộ Công an)"
READER = "role-registry_reader"


@pytest.fixture
def writer(database: Database) -> Iterator[LedgerWriter]:
    url = libpq_url(database.url)
    with LedgerWriter(lambda: psycopg.connect(url)) as w:
        yield w


def test_operator_reads_are_named_as_the_manager_and_admin_entries_never_show(database: Database,
                                                                            writer: LedgerWriter) -> None:
    person = make_resident(database)
    pid = person["personal_id"]
    with database.sessions() as session:
        disclosure.read_resident(session, disclosure.Reader.of("nguyen.van.a", "xác minh nơi cư trú"), writer.append,
                                 pid)
    writer.append(make_entry(1, kind=EntryKind.ADMIN, client_system="sync:bhyt", service="sync.apply",
                             personal_ids=(pid,)))
    writer.append(make_entry(2, client_system="VN/COM/BANK77/ekyc", personal_ids=(pid,)))
    with database.sessions() as session:
        bank, operator = access_history(session, pid)
    assert (bank.agency, bank.officer) == ("VN/COM/BANK77/ekyc", None)
    assert operator.agency == f"{MANAGER} — cán bộ nguyen.van.a" and operator.officer == "nguyen.van.a"
    assert (operator.client_system, operator.service, operator.purpose) == (
        "operator:api", "registry.read", "xác minh nơi cư trú")
    assert "phone" in operator.fields and operator.fields[-1] == "history"


@pytest.mark.usefixtures("demo_outbox")
def test_the_portal_and_sms_show_the_officer(live_server: str, database: Database) -> None:
    person = make_resident(database)
    pid = person["personal_id"]
    with httpx.Client(base_url=live_server, timeout=30) as client:
        read = client.get(f"/registry/residents/{pid}", params={"purpose": "giải quyết khiếu nại"},
                          headers=auth(READER))
        assert read.status_code == 200, read.text
        register_account(client, database, person)
        vietnamese = client.get("/citizen/portal/me/history").text
        english = client.get("/citizen/portal/me/history?lang=en").text
        reply = send_sms(client, person["phone"], f"DC LS {pid}").json()["reply"]
    assert f"{MANAGER} — cán bộ {READER}" in vietnamese and "giải quyết khiếu nại" in vietnamese
    assert "Số điện thoại" in vietnamese and "Lịch sử thay đổi thông tin" in vietnamese
    assert f"Manager of the national population database (Ministry of Public Security) — officer {READER}" in english
    assert "History of changes" in english
    assert "operator:api" not in vietnamese + english
    assert f"cán bộ {READER}" in reply and "1 lần" in reply
