from __future__ import annotations

from typing import Any

import httpx

from tests.agencies.factories import ACTOR, letter, walk


def _agency(directory: dict[str, Any], identifier: str) -> dict[str, Any] | None:
    member = identifier.rsplit("/", 1)[0]
    return next((a for a in directory["agencies"] if a["identifier"] == member), None)


def test_directory_lists_only_published_agencies_with_focal_points(http: httpx.Client) -> None:
    _, live = walk(http)
    _, past_two = walk(http, until=3)
    _, at_two = walk(http, until=1)
    directory = http.get("/directory").json()
    assert _agency(directory, at_two) is None
    onboarding = _agency(directory, past_two)
    assert onboarding is not None and onboarding["systems"][0]["onboarding_step"] == 4
    agency = _agency(directory, live)
    assert agency is not None and agency["type"] == "credit_institution"
    assert agency["type_vi"] == "Tổ chức tín dụng"
    assert agency["focal_points"] == [{"name": "Nguyễn Thị Hoa", "position": "Trưởng phòng CNTT",
                                       "function": "Đầu mối kỹ thuật kết nối", "phone": "0912 345 678",
                                       "email": "hoa.nguyen@bank.example.vn"}]
    system = agency["systems"][0]
    assert system["status"] == "active" and system["status_vi"] == "Đang hoạt động"
    assert system["shares"][0] == {"dataset": "Danh sách khách hàng", "description": None, "form": "api",
                                   "status": "ready"}


def test_terminated_and_rejected_systems_leave_the_directory(http: httpx.Client) -> None:
    _, identifier = walk(http)
    http.post(f"/agencies/systems/{identifier}/terminate", headers=ACTOR, json={"reason": "Hết hạn"})
    assert _agency(http.get("/directory").json(), identifier) is None


def test_directory_page_is_vietnamese_first_and_escaped(http: httpx.Client) -> None:
    body = letter()
    body["organisation"]["name"] = "<script>alert(1)</script> Ngân hàng"
    started = http.post("/agencies/onboarding", json=body, headers=ACTOR).json()
    for number in (2, 3):
        data = {"data": {}} if number == 2 else {"data": {"shares": [
            {"dataset": "Thuê bao", "form": "file", "status": "sharing"}]}}
        assert http.post(f"/agencies/onboarding/{started['request_id']}/steps/{number}", json=data,
                         headers=ACTOR).status_code == 200
    page = http.get("/directory.html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="vi">' in html and "Cán bộ đầu mối" in html and "Nguyễn Thị Hoa" in html
    assert "&lt;script&gt;" in html and "<script>alert" not in html
    assert "Đang chia sẻ" in html and 'name="viewport"' in html
