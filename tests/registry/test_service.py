from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dancu.errors import ValidationFailed
from dancu.registry import id_number, queries, service
from dancu.registry.errors import (
    NothingToChange,
    PersonalIdTaken,
    ResidentDeceased,
    ResidentNotFoundAtTime,
    SearchTooBroad,
    StaleVersion,
)
from dancu.registry.models import PersonalIdNumber, Resident
from dancu.registry.schemas import CorrectionRequest, DeathRequest, MoveRequest, Residence, ResidentCreate
from tests.registry.factories import context, create, resident_payload, token, unique_number

T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def correct(session: Session, pid: str, version: int, now: datetime | None = None, **changes: object):
    body = CorrectionRequest(changes=changes, expected_version=version, reason="quyết định 12/QĐ")
    return service.correct_resident(context(session, now=now, reason=body.reason), pid, body)


def test_create_issues_a_number_from_birth_place_year_and_sex(session: Session) -> None:
    record = create(session, date_of_birth="2003-07-01", sex="2", birth_registration_province="79")
    fields = record.resident.fields
    parsed = id_number.parse(fields["personal_id"])
    assert (parsed.place_code, parsed.birth_year, parsed.sex) == ("079", 2003, "2")
    assert session.get(PersonalIdNumber, fields["personal_id"]).origin == "issued"
    assert fields["phone"] == "0912345678"
    assert record.resident.version == 1
    assert [c.kind for c in record.history] == ["created"] and record.history[0].changes is None
    assert record.resident.provenance["full_name"]["source"] == "test"


def test_create_imports_an_existing_number_once(session: Session) -> None:
    number = unique_number("001", 1985, "1")
    record = create(session, personal_id=number)
    assert record.resident.fields["personal_id"] == number
    assert session.get(PersonalIdNumber, number).origin == "imported"
    with pytest.raises(PersonalIdTaken):
        create(session, personal_id=number)


def test_imported_number_must_match_year_and_sex(session: Session) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create(session, personal_id=unique_number("001", 1990, "1"))
    assert [e["code"] for e in caught.value.extra["errors"]] == ["id_number_birth_year"]
    with pytest.raises(ValidationFailed) as caught:
        create(session, personal_id=unique_number("001", 1985, "2"))
    assert [e["code"] for e in caught.value.extra["errors"]] == ["id_number_sex"]


def test_validation_lists_every_bad_field(session: Session) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create(
            session,
            sex="7",
            ethnic_code="99",
            date_of_birth="1985-02-30",
            permanent_province="02",
            phone="12345",
            email="not-an-email",
            blood_type="C+",
        )
    fields = {e["field"] for e in caught.value.extra["errors"]}
    assert {
        "sex",
        "ethnic_code",
        "date_of_birth",
        "permanent_province",
        "phone",
        "email",
        "blood_type",
    } <= fields
    assert session.scalar(select(Resident).limit(1).where(Resident.full_name.like("%C+%"))) is None


def test_names_are_cleaned_and_folded(session: Session) -> None:
    record = create(session, full_name="  Ðặng   Thị  Thuỷ ")
    resident = session.scalar(
        select(Resident).where(Resident.personal_id == record.resident.fields["personal_id"])
    )
    assert resident.full_name == "Đặng Thị Thuỷ"
    assert resident.name_folded == "dang thi thuy"


def test_household_head_and_member(session: Session) -> None:
    head = create(session, relation_to_head="00")
    household_id = head.resident.fields["household_id"]
    member = create(
        session, household_id=household_id, relation_to_head="01", full_name=f"Trần Thị {token()}"
    )
    assert head.resident.fields["personal_id"] in {m.personal_id for m in member.household.members}
    assert member.household.head_personal_id == head.resident.fields["personal_id"]
    with pytest.raises(ValidationFailed) as caught:
        create(session, household_id=household_id, relation_to_head="00")
    assert caught.value.extra["errors"][0]["code"] == "household_has_head"


def test_relatives_link_to_known_residents(session: Session) -> None:
    father = create(session)
    pid = father.resident.fields["personal_id"]
    child = create(
        session,
        date_of_birth="2015",
        relatives=[
            {"kind": "father", "personal_id": pid, "full_name": father.resident.fields["full_name"]},
            {"kind": "mother", "full_name": "Lê Thị Mơ", "nationality_code": "VN"},
        ],
    )
    relatives = child.resident.fields["relatives"]
    assert relatives[0]["resident_id"] == father.resident.resident_id
    assert relatives[1]["resident_id"] is None
    assert child.resident.fields["date_of_birth"] == "2015"


def test_correction_records_history_and_checks_version(session: Session) -> None:
    record = create(session)
    pid = record.resident.fields["personal_id"]
    corrected = correct(session, pid, 1, full_name="Nguyễn Văn Ánh", blood_type="A+")
    assert corrected.resident.version == 2
    last = corrected.history[-1]
    assert last.kind == "corrected" and last.reason == "quyết định 12/QĐ"
    assert last.changes["blood_type"] == ["O+", "A+"]
    assert set(last.changes) == {"full_name", "blood_type"}
    with pytest.raises(StaleVersion):
        correct(session, pid, 1, blood_type="B+")
    with pytest.raises(NothingToChange):
        correct(session, pid, 2, blood_type="A+")


def test_correction_rejects_unknown_fields_and_bad_types(session: Session) -> None:
    pid = create(session).resident.fields["personal_id"]
    with pytest.raises(ValidationFailed) as caught:
        correct(session, pid, 1, shoe_size="42", id_cards="many", household_id=3)
    codes = {e["field"]: e["code"] for e in caught.value.extra["errors"]}
    assert codes["shoe_size"] == "unknown_field"
    assert codes["household_id"] == "not_correctable"
    assert "id_cards" in codes


def test_personal_id_change_keeps_the_old_number(session: Session) -> None:
    pid = create(session).resident.fields["personal_id"]
    new = unique_number("001", 1985, "1")
    record = correct(session, pid, 1, personal_id=new)
    assert record.history[-1].kind == "personal_id_changed"
    assert session.get(PersonalIdNumber, pid).resident_id == record.resident.resident_id
    assert (
        queries.read_resident(session, pid).resident.fields["personal_id"] == new
    )  # old number still finds it


def test_changing_birth_year_needs_a_matching_number(session: Session) -> None:
    pid = create(session).resident.fields["personal_id"]
    with pytest.raises(ValidationFailed) as caught:
        correct(session, pid, 1, date_of_birth="1986")
    assert caught.value.extra["errors"][0]["code"] == "id_number_birth_year"


def test_as_of_reads_before_and_after_a_correction(session: Session) -> None:
    body = ResidentCreate.model_validate(resident_payload(blood_type="O+"))
    record = service.create_resident(context(session, now=T0), body)
    pid = record.resident.fields["personal_id"]
    correct(session, pid, 1, now=T0 + timedelta(days=10), blood_type="AB+", phone="0987654321")
    before = queries.read_resident(session, pid, T0 + timedelta(days=5))
    assert before.resident.fields["blood_type"] == "O+" and before.resident.fields["phone"] == "0912345678"
    assert before.resident.version == 1 and len(before.history) == 1
    after = queries.read_resident(session, pid, T0 + timedelta(days=11))
    assert after.resident.fields["blood_type"] == "AB+" and after.resident.version == 2
    assert after.resident.provenance["blood_type"]["updated_at"].startswith("2026-01-11")
    with pytest.raises(ResidentNotFoundAtTime):
        queries.read_resident(session, pid, T0 - timedelta(seconds=1))
    naive_local = datetime(2026, 1, 1, 15, 30)  # 08:30 UTC, after creation at 08:00 UTC
    assert queries.read_resident(session, pid, naive_local).resident.version == 1


def test_death_then_other_writes_are_refused(session: Session) -> None:
    pid = create(session, date_of_birth="1940").resident.fields["personal_id"]
    dead = service.record_death(context(session), pid, DeathRequest(date="2024-05", kind="dead"))
    assert dead.resident.fields["death_date"] == "2024-05" and dead.history[-1].kind == "death_recorded"
    with pytest.raises(ResidentDeceased):
        correct(session, pid, 2, phone="0987654321")
    with pytest.raises(ResidentDeceased):
        service.move_resident(context(session), pid, MoveRequest(permanent=Residence(province="79")))
    fixed = correct(session, pid, 2, death_date="2024-05-03")
    assert fixed.resident.fields["death_date"] == "2024-05-03"
    again = service.record_death(context(session), pid, DeathRequest(date="2024-05-04", kind="dead"))
    assert again.history[-1].kind == "death_corrected"


def test_death_before_birth_is_refused(session: Session) -> None:
    pid = create(session, date_of_birth="1990-06").resident.fields["personal_id"]
    with pytest.raises(ValidationFailed) as caught:
        service.record_death(context(session), pid, DeathRequest(date="1989", kind="missing"))
    assert caught.value.extra["errors"][0]["code"] == "death_before_birth"


def test_move_residence_and_household(session: Session) -> None:
    head = create(session, relation_to_head="00")
    pid = create(
        session, household_id=head.resident.fields["household_id"], relation_to_head="02"
    ).resident.fields["personal_id"]
    moved = service.move_resident(
        context(session),
        pid,
        MoveRequest(
            permanent=Residence(province="79", commune="26743", address="5 Lê Lợi"), new_household=True
        ),
    )
    fields = moved.resident.fields
    assert (fields["permanent_province"], fields["permanent_address"], fields["relation_to_head"]) == (
        "79",
        "5 Lê Lợi",
        "00",
    )
    assert fields["household_id"] != head.resident.fields["household_id"]
    assert moved.household.head_personal_id == pid
    assert moved.history[-1].kind == "moved"
    assert moved.history[-1].changes["permanent_province"] == ["01", "79"]
    with pytest.raises(ValidationFailed):
        service.move_resident(context(session), pid, MoveRequest(current=Residence(province="63")))


def test_search_with_and_without_diacritics(session: Session) -> None:
    surname = token()
    exact = create(session, full_name=f"Phạm Thị {surname}", date_of_birth="1972-09")
    create(session, full_name=f"Phạm Thị {surname} Hoa", date_of_birth="1972-09-10")
    for query in (f"Phạm Thị {surname}", f"pham thi {surname.lower()}", f"PHAM THI {surname.upper()}"):
        page = queries.search_residents(session, name=query)
        assert page.items[0].personal_id == exact.resident.fields["personal_id"], query
        # the database is shared with other tests: only the two names carrying this test's token count
        assert len([h for h in page.items if surname in h.full_name]) == 2
    by_dob = queries.search_residents(session, name=surname, dob="1972-09-10")
    assert {h.full_name for h in by_dob.items} == {f"Phạm Thị {surname}", f"Phạm Thị {surname} Hoa"}
    assert queries.search_residents(session, name=surname, dob="1973").items == []
    assert queries.search_residents(session, name=surname, province="79").items == []
    assert len(queries.search_residents(session, name=surname, province="01", limit=1).items) == 1


def test_search_needs_a_narrowing_criterion(session: Session) -> None:
    for criteria in ({}, {"province": "01"}, {"dob": "1980"}, {"commune": "00004"}, {"name": "an"}):
        with pytest.raises(SearchTooBroad):
            queries.search_residents(session, **criteria)
    with pytest.raises(ValidationFailed):
        queries.search_residents(session, dob="1980-13")
    pid = create(session).resident.fields["personal_id"]
    assert queries.search_residents(session, personal_id=pid).items[0].personal_id == pid


def test_head_who_steps_down_frees_the_household(session: Session) -> None:
    head = create(session, relation_to_head="00")
    pid, household_id = head.resident.fields["personal_id"], head.resident.fields["household_id"]
    record = correct(session, pid, 1, relation_to_head="01")
    assert record.household.head_personal_id is None
    other = create(session, household_id=household_id, relation_to_head="00")
    assert other.household.head_personal_id == other.resident.fields["personal_id"]


def test_commune_must_belong_to_its_province(session: Session) -> None:
    pid = create(session).resident.fields["personal_id"]
    with pytest.raises(ValidationFailed) as raised:  # Phường Bến Thành is in Hồ Chí Minh (79), not Hà Nội
        service.move_resident(context(session), pid, MoveRequest(current=Residence(province="01", commune="26743")))
    assert [e["code"] for e in raised.value.extra["errors"]] == ["commune_not_in_province"]
    moved = service.move_resident(context(session), pid, MoveRequest(current=Residence(province="79", commune="26743")))
    assert moved.resident.fields["current_commune"] == "26743"
