"""What may change in a focal point and when the last one may go — pure rules, no database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dancu.agencies.domain import (
    FOCAL_POINT_FIELDS,
    UPDATABLE_FOCAL_POINT_FIELDS,
    focal_point_changes,
    leaves_no_focal_point,
)

CURRENT = {"name": "Nguyễn Thị Hoa", "position": "Trưởng phòng", "function": "Kỹ thuật", "phone": "0912 345 678",
           "email": "hoa@bank.example.vn"}
values = st.one_of(st.none(), st.sampled_from(["Trưởng phòng", "Phó phòng", "0912 345 678", "0987 654 321",
                                                "hoa@bank.example.vn", "an@bank.example.vn", "Kỹ thuật"]))


@given(st.dictionaries(st.sampled_from(FOCAL_POINT_FIELDS), values))
def test_changes_are_exactly_the_updatable_fields_given_a_new_value(given_values: dict[str, str | None]) -> None:
    changes = focal_point_changes(CURRENT, given_values)
    assert set(changes) <= set(UPDATABLE_FOCAL_POINT_FIELDS)  # never the name: another officer is another point
    for field, value in given_values.items():
        changed = field in UPDATABLE_FOCAL_POINT_FIELDS and value is not None and value != CURRENT[field]
        assert (field in changes) is changed
        if changed:
            assert changes[field] == [CURRENT[field], value]


@given(st.integers(min_value=0, max_value=5), st.lists(st.sampled_from(["VN/COM/B1/EKYC", "VN/COM/B1/SMS"]),
                                                      max_size=2, unique=True))
def test_only_a_listed_organisation_must_keep_a_published_focal_point(published_after: int,
                                                                      listed: list[str]) -> None:
    assert leaves_no_focal_point(published_after, listed) is (published_after == 0 and bool(listed))
