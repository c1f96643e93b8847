"""Focal points after onboarding, over real HTTP on the real database: operators add, update and withdraw them;
the public directory (JSON and HTML) follows at once; every change is in the history; an organisation the
directory lists never loses its last published focal point; refused input changes nothing."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from tests.agencies.factories import ACTOR, assert_problem, post_step, step_body, unique, walk

OFFICER = {"name": "Trần Văn Bình", "position": "Phó phòng CNTT", "function": "Đầu mối vận hành kết nối",
           "phone": "0987 654 321"}


def _member(system: str) -> str:
    return system.rsplit("/", 1)[0]


def _officer(**overrides: str) -> dict[str, str]:
    return {**OFFICER, "email": f"{unique('binh-')}@bank.example.vn", "reason": "Công văn số 12/NH cử cán bộ",
            **overrides}


def _view(http: httpx.Client, member: str) -> dict[str, Any]:
    response = http.get(f"/agencies/organisations/{member}", headers=ACTOR)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _listed(http: httpx.Client, member: str) -> list[dict[str, str]]:
    """The organisation's focal points as the public JSON directory shows them (no operator token)."""
    agencies = http.get("/directory").json()["agencies"]
    [agency] = [a for a in agencies if a["identifier"] == member]
    points: list[dict[str, str]] = agency["focal_points"]
    return points


def _page_section(http: httpx.Client, member: str) -> str:
    """The organisation's part of the public HTML page (its <article>), unescaped."""
    page = http.get("/directory.html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    [article] = [a for a in re.split(r"<article ", page.text) if f"<code>{member}</code>" in a]
    return html.unescape(article)


def _points(http: httpx.Client, member: str) -> str:
    return f"/agencies/organisations/{member}/focal-points"


def test_focal_points_change_after_go_live_and_the_directory_follows_at_once(http: httpx.Client) -> None:
    _, system = walk(http)
    member = _member(system)
    [hoa] = _view(http, member)["focal_points"]
    assert hoa["published"] and hoa["name"] == "Nguyễn Thị Hoa"

    new = _officer()
    added = http.post(_points(http, member), json=new, headers=ACTOR)
    assert added.status_code == 201, added.text
    binh = added.json()
    assert binh["published"] and binh["withdrawn_at"] is None and binh["organisation"] == member
    assert [p["name"] for p in _listed(http, member)] == ["Nguyễn Thị Hoa", "Trần Văn Bình"]
    assert "Trần Văn Bình" in _page_section(http, member)

    url = f"{_points(http, member)}/{binh['focal_point_id']}"
    changed = http.patch(url, json={"phone": "024 3942 0000", "position": "Trưởng phòng CNTT",
                                    "reason": "Bổ nhiệm trưởng phòng"}, headers=ACTOR)
    assert changed.status_code == 200, changed.text
    assert changed.json()["phone"] == "024 3942 0000" and changed.json()["email"] == new["email"]
    [_, listed] = _listed(http, member)
    assert listed == {"name": "Trần Văn Bình", "position": "Trưởng phòng CNTT", "function": OFFICER["function"],
                      "phone": "024 3942 0000", "email": new["email"]}
    section = _page_section(http, member)
    assert "024 3942 0000" in section and "tel:02439420000" in section and "0987 654 321" not in section

    gone = http.post(f"{_points(http, member)}/{hoa['focal_point_id']}/withdraw",
                     json={"reason": "Chuyển công tác từ 01/12/2026"}, headers=ACTOR)
    assert gone.status_code == 200, gone.text
    assert gone.json()["withdrawn_at"] is not None
    assert [p["name"] for p in _listed(http, member)] == ["Trần Văn Bình"]
    assert "Nguyễn Thị Hoa" not in _page_section(http, member)

    view = _view(http, member)
    assert [p["focal_point_id"] for p in view["focal_points"]] == [binh["focal_point_id"]]
    history = [(c["name"], c["change"], c["actor"], c["reason"]) for c in view["focal_point_history"]]
    assert history == [
        ("Nguyễn Thị Hoa", "proposed", "officer-c06", f"request letter (step 1) of {system}"),
        ("Nguyễn Thị Hoa", "published", "officer-c06", f"onboarding step 2 of {system}"),
        ("Trần Văn Bình", "added", "officer-c06", "Công văn số 12/NH cử cán bộ"),
        ("Trần Văn Bình", "updated", "officer-c06", "Bổ nhiệm trưởng phòng"),
        ("Nguyễn Thị Hoa", "withdrawn", "officer-c06", "Chuyển công tác từ 01/12/2026"),
    ]
    changes = [c["changes"] for c in view["focal_point_history"]]
    assert changes[2]["email"] == [None, new["email"]] and changes[4] == {}
    assert changes[3] == {"phone": ["0987 654 321", "024 3942 0000"],
                          "position": ["Phó phòng CNTT", "Trưởng phòng CNTT"]}
    assert all(c["changed_at"] for c in view["focal_point_history"])
    assert view["systems"] == [{"identifier": system, "name": "Hệ thống định danh khách hàng", "status": "active",
                                "listed": True}]
    shown = http.get(f"/agencies/systems/{system}", headers=ACTOR).json()  # the system's view shows the same
    assert shown["focal_points"] == view["focal_points"]
    assert shown["focal_point_history"] == view["focal_point_history"]


def test_the_last_published_focal_point_of_a_listed_organisation_cannot_be_withdrawn(http: httpx.Client) -> None:
    _, system = walk(http)
    member = _member(system)
    before = _view(http, member)
    [hoa] = before["focal_points"]
    url = f"{_points(http, member)}/{hoa['focal_point_id']}/withdraw"
    problem = assert_problem(http.post(url, json={"reason": "Nghỉ hưu"}, headers=ACTOR), 409, "focal_point_required")
    assert problem["type"] == "/problems/focal_point_required"
    assert problem["organisation"] == member and problem["systems"] == [system]
    assert "cán bộ đầu mối" in problem["detail"] and "add the replacement first" in problem["detail_en"]
    assert problem["title"] == "Phải còn ít nhất một cán bộ đầu mối"
    assert _view(http, member) == before and [p["name"] for p in _listed(http, member)] == ["Nguyễn Thị Hoa"]

    http.post(f"/agencies/systems/{system}/suspend", json={"reason": "Kiểm tra"}, headers=ACTOR)
    assert_problem(http.post(url, json={"reason": "Nghỉ hưu"}, headers=ACTOR), 409, "focal_point_required")
    assert http.post(_points(http, member), json=_officer(), headers=ACTOR).status_code == 201
    assert http.post(url, json={"reason": "Nghỉ hưu"}, headers=ACTOR).status_code == 200  # a replacement first


def test_the_rule_covers_what_the_directory_lists_and_nothing_else(http: httpx.Client) -> None:
    def withdraw_only(system: str) -> httpx.Response:
        [point] = _view(http, _member(system))["focal_points"]
        return http.post(f"{_points(http, _member(system))}/{point['focal_point_id']}/withdraw",
                         json={"reason": "Thôi làm đầu mối"}, headers=ACTOR)

    _, onboarding = walk(http, until=3)  # past step 2: in the directory, so it keeps its focal point
    assert_problem(withdraw_only(onboarding), 409, "focal_point_required")
    request_id, proposed = walk(http, until=1)  # step 1 only: proposed, never public
    assert withdraw_only(proposed).status_code == 200
    nobody = assert_problem(post_step(http, request_id, 2, step_body(2)), 422, "onboarding_step_invalid")
    assert nobody["rule"] == "focal_point_missing"  # step 2 would list the agency with no focal point
    assert post_step(http, request_id, 2, {"data": {"focal_points": [{k: v for k, v in _officer().items()
                                                                      if k != "reason"}]}}).status_code == 200
    _, ended = walk(http)
    http.post(f"/agencies/systems/{ended}/terminate", json={"reason": "Hết hợp đồng"}, headers=ACTOR)
    assert withdraw_only(ended).status_code == 200
    assert _view(http, _member(ended))["systems"][0]["listed"] is False


def test_refused_changes_change_nothing(http: httpx.Client) -> None:
    _, system = walk(http)
    member = _member(system)
    _, other_system = walk(http)
    [foreign] = _view(http, _member(other_system))["focal_points"]
    binh = http.post(_points(http, member), json=_officer(), headers=ACTOR).json()
    [hoa, _] = _view(http, member)["focal_points"]
    gone = http.post(f"{_points(http, member)}/{binh['focal_point_id']}/withdraw", json={"reason": "Nghỉ"},
                     headers=ACTOR)
    assert gone.status_code == 200
    before, listed = _view(http, member), _listed(http, member)
    hoa_url = f"{_points(http, member)}/{hoa['focal_point_id']}"
    binh_url = f"{_points(http, member)}/{binh['focal_point_id']}"
    refused = [
        (http.post(_points(http, member), json=_officer(email="not-an-email"), headers=ACTOR), 422,
         "validation_failed"),
        (http.post(_points(http, member), json={**_officer(), "reason": ""}, headers=ACTOR), 422,
         "validation_failed"),
        (http.post(_points(http, member), json=_officer(email=hoa["email"].upper()), headers=ACTOR), 409,
         "focal_point_exists"),
        (http.post(_points(http, "VN/COM/NOBODY-X"), json=_officer(), headers=ACTOR), 404, "organisation_not_found"),
        (http.post(_points(http, "not/an"), json=_officer(), headers=ACTOR), 404, "organisation_not_found"),
        (http.patch(hoa_url, json={"reason": "Không đổi gì"}, headers=ACTOR), 422, "validation_failed"),
        (http.patch(hoa_url, json={"phone": hoa["phone"], "reason": "Như cũ"}, headers=ACTOR), 422,
         "validation_failed"),
        (http.patch(hoa_url, json={"name": "Người khác", "reason": "Đổi người"}, headers=ACTOR), 422,
         "validation_failed"),
        (http.patch(f"{_points(http, member)}/{foreign['focal_point_id']}", json={"phone": "0900 000 000",
                                                                                   "reason": "Nhầm"},
                    headers=ACTOR), 404, "focal_point_not_found"),
        (http.patch(binh_url, json={"phone": "0900 000 000", "reason": "Sau khi thôi"}, headers=ACTOR), 409,
         "focal_point_withdrawn"),
        (http.post(f"{binh_url}/withdraw", json={"reason": "Lần hai"}, headers=ACTOR), 409, "focal_point_withdrawn"),
        (http.post(f"{hoa_url}/withdraw", json={}, headers=ACTOR), 422, "validation_failed"),
        (http.post(f"{hoa_url}/withdraw", json={"reason": "Không có quyền"}), 401, "operator_unauthenticated"),
    ]
    for response, status, code in refused:
        problem = assert_problem(response, status, code)
        assert problem["title"] and problem["title_en"] and problem["detail_en"]
    assert _view(http, member) == before and _listed(http, member) == listed
    reused = http.patch(hoa_url, json={"email": binh["email"], "reason": "Dùng hộp thư chung"}, headers=ACTOR)
    assert reused.status_code == 200, reused.text  # a withdrawn officer's address blocks nobody


def test_step_2_naming_the_proposed_officer_again_publishes_that_one_not_a_second(http: httpx.Client) -> None:
    request_id, system = walk(http, until=1)
    member = _member(system)
    [proposed] = _view(http, member)["focal_points"]
    assert not proposed["published"]
    again = {k: proposed[k] for k in ("name", "position", "function", "email")} | {"phone": "0912 000 111"}
    impostor = {**again, "name": "Lê Văn Khác"}  # another person at that address
    refused = post_step(http, request_id, 2, {"data": {"focal_points": [impostor]}})
    assert_problem(refused, 409, "focal_point_exists")
    assert _view(http, member)["focal_points"] == [proposed]  # nothing changed, step 2 not recorded

    again["email"] = again["email"].upper()
    assert post_step(http, request_id, 2, {"data": {"focal_points": [again]}}).status_code == 200
    [point] = _view(http, member)["focal_points"]
    assert point["focal_point_id"] == proposed["focal_point_id"] and point["published"]
    assert point["email"] == proposed["email"] and point["phone"] != proposed["phone"]
    assert [p["name"] for p in _listed(http, member)] == [proposed["name"]]
    kinds = [h["change"] for h in _view(http, member)["focal_point_history"]]
    assert kinds == ["proposed", "updated", "published"]
