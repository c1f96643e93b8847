"""Builders for connected-system tests: request letters, step bodies, client keys and assertions, and the
test run of step 8 — real test calls with the system's test key on the sandbox's synthetic residents."""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections.abc import Sequence
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from dancu.agencies.tokens import ASSERTION_TYPE
from tests.operators.accounts import auth

ACTOR = auth("officer-c06")  # an operator token (connections, registrar, inspector, ...)
PROBLEM = "application/problem+json"
PURPOSE = "kyc_account_opening"
SANDBOX_RESIDENTS = 40  # what the tests' sandbox holds at least (loaded once, through the operators' API)


def unique(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def doc(name: str) -> dict[str, str]:
    return {"name": name, "sha256": hashlib.sha256(name.encode()).hexdigest()}


class ClientKey:
    """A connected system's own key pair; only the public half is ever sent to dancu."""

    def __init__(self, alg: str = "EdDSA") -> None:
        self.alg = alg
        if alg == "EdDSA":
            self.private: Any = Ed25519PrivateKey.generate()
            self.public_jwk: dict[str, Any] = OKPAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())
            self.public_jwk = ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        self.kid = unique("kid-")
        self.public_jwk["kid"] = self.kid

    def assertion(self, client_id: str, audience: str, *, jti: str | None = None, exp_in: int = 120,
                  iat_offset: int = 0) -> str:
        now = int(time.time())
        claims = {"iss": client_id, "sub": client_id, "aud": audience, "iat": now + iat_offset,
                  "exp": now + exp_in, "jti": jti or uuid.uuid4().hex}
        return jwt.encode(claims, self.private, algorithm=self.alg, headers={"kid": self.kid})


def token_form(key: ClientKey, client_id: str, audience: str, **kwargs: Any) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": key.assertion(client_id, audience, **kwargs)}


def letter(org_type: str = "credit_institution", kind: str = "business", member_code: str | None = None,
           services: list[str] | None = None, fields: list[str] | None = None,
           purposes: list[str] | None = None) -> dict[str, Any]:
    return {
        "organisation": {"instance": "VN", "member_class": "COM", "member_code": member_code or unique("B"),
                         "name": f"Ngân hàng Thử nghiệm {unique()}", "type": org_type},
        "system": {"subsystem_code": "EKYC", "name": "Hệ thống định danh khách hàng", "kind": kind},
        "legal_mandate": "Luật Các tổ chức tín dụng 2024; Nghị định 13/2023",
        "purpose": "Xác thực thông tin khách hàng khi mở tài khoản",
        "services": services or ["verify", "retrieve"],
        "fields": fields or ["full_name", "date_of_birth", "sex", "permanent_address"],
        "purposes": purposes or [PURPOSE, "dong_bo_bhyt"],
        "proposed_focal_point": {"name": "Nguyễn Thị Hoa", "position": "Trưởng phòng CNTT",
                                 "function": "Đầu mối kỹ thuật kết nối", "phone": "0912 345 678",
                                 "email": "hoa.nguyen@bank.example.vn"},
        "documents": [doc("cong-van-de-nghi.pdf")],
    }


def step_body(number: int, key: ClientKey | None = None, production_key: ClientKey | None = None,
              **overrides: Any) -> dict[str, Any]:
    bodies: dict[int, dict[str, Any]] = {
        2: {"data": {}},
        3: {"data": {"catalogue_url": "https://bank.example.vn/du-lieu",
                     "shares": [{"dataset": "Danh sách khách hàng", "form": "api", "status": "ready"}]}},
        4: {"data": {"connection_model": "direct", "summary": "Kết nối trực tiếp qua mạng truyền số liệu chuyên dùng"}},
        5: {"data": {"security_level": 3, "attested_by": "Giám đốc khối CNTT",
                     "assessment": {"assessor": "Cục A05", "assessed_on": "2026-10-01", "result": "passed"}},
            "documents": [doc("ho-so-cap-do-3.pdf")]},
        6: {"decision": "approve", "notes": "Đủ điều kiện", "documents": [doc("quyet-dinh-phe-duyet.pdf")]},
        7: {"data": {"jwk": (key or ClientKey()).public_jwk}},
        8: {"data": {}},  # what the step records comes from the exchange log: sandbox_calls() first
        9: {"data": {"credential": {"jwk": (production_key or key or ClientKey()).public_jwk},
                     "policy": {"services": ["verify"], "fields": ["full_name", "date_of_birth"],
                                "purposes": ["kyc_account_opening"], "daily_quota": 1000, "rate_per_second": 20}}},
        10: {"notes": "Vận hành chính thức"},
    }
    body = bodies[number]
    body.update(overrides)
    return body


def post_step(http: httpx.Client, request_id: int, number: int, body: dict[str, Any]) -> httpx.Response:
    return http.post(f"/agencies/onboarding/{request_id}/steps/{number}", json=body, headers=ACTOR)


def walk(http: httpx.Client, until: int = 10, test_key: ClientKey | None = None,
         production_key: ClientKey | None = None, bodies: dict[int, dict[str, Any]] | None = None,
         **letter_args: Any) -> tuple[int, str]:
    """Start a request and record steps 2..``until``, making the system's test calls before step 8; returns
    (request_id, system identifier)."""
    body = letter(**letter_args)
    started = http.post("/agencies/onboarding", json=body, headers=ACTOR)
    assert started.status_code == 201, started.text
    request_id, identifier = started.json()["request_id"], started.json()["system"]
    test_key, production_key = test_key or ClientKey(), production_key or ClientKey()
    for number in range(2, until + 1):
        step = (bodies or {}).get(number) or step_body(number, test_key, production_key)
        if number == 8 and not (bodies or {}).get(8):
            sandbox_calls(http, identifier, test_key, body["services"], body["fields"])
        response = post_step(http, request_id, number, step)
        assert response.status_code == 200, response.text
    return request_id, identifier


# -- the test run (step 8): real calls with the test key, on sandbox residents ---------------------------------
_sandbox_ready: list[bool] = []


def ensure_sandbox(http: httpx.Client) -> None:
    """The sandbox holds at least SANDBOX_RESIDENTS synthetic residents (loaded once per test run)."""
    if not _sandbox_ready:
        loaded = http.post("/agencies/sandbox", json={"residents": SANDBOX_RESIDENTS}, headers=ACTOR)
        assert loaded.status_code == 200, loaded.text
        assert loaded.json()["residents"] >= SANDBOX_RESIDENTS
        _sandbox_ready.append(True)


def access_token(http: httpx.Client, identifier: str, key: ClientKey) -> str:
    audience = f"{str(http.base_url).rstrip('/')}/oauth/token"
    response = http.post("/oauth/token", data=token_form(key, identifier, audience))
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def sandbox_people(http: httpx.Client, token: str, count: int = 5, **headers: str) -> list[dict[str, Any]]:
    """``count`` sandbox residents, as GET /exchange/v1/sandbox/residents lists them to a test key."""
    ensure_sandbox(http)
    listed = http.get("/exchange/v1/sandbox/residents", params={"limit": 100},
                      headers={"Authorization": f"Bearer {token}", **headers})
    assert listed.status_code == 200, listed.text
    people: list[dict[str, Any]] = listed.json()["residents"]
    assert len(people) >= count
    return random.sample(people, count)


def claim_of(person: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """A verify claim on the first of the person's name, date of birth and sex the fields allow."""
    for name in ("full_name", "date_of_birth", "sex"):
        if name in fields:
            return {name: person[name]}
    raise AssertionError(f"no verifiable field in {fields}")


def sandbox_calls(http: httpx.Client, identifier: str, test_key: ClientKey, services: Sequence[str],
                  fields: Sequence[str], *, purpose: str = PURPOSE, sources: Sequence[str] = (),
                  legal_basis: str | None = None, relay: tuple[str, ClientKey] | None = None) -> dict[str, int]:
    """One successful test call per service (enrichment_push only with a source), as the system makes them at
    step 8: its test key — or, for a system behind a platform, ``relay`` = (platform, its test key) naming it in
    X-Road-Client — on sandbox residents.  Returns the calls made, per service."""
    caller, key = relay or (identifier, test_key)
    headers = {"Authorization": f"Bearer {access_token(http, caller, key)}"}
    if relay:
        headers["X-Road-Client"] = identifier
    one, two = sandbox_people(http, headers["Authorization"].removeprefix("Bearer "), 2,
                              **({"X-Road-Client": identifier} if relay else {}))
    base: dict[str, Any] = {"purpose": purpose, **({"legal_basis": legal_basis} if legal_basis else {})}
    made: dict[str, int] = {}
    for service in services:
        if service == "verify":
            response = http.post("/exchange/v1/verify", json={**base, "personal_id": one["personal_id"],
                                                              **claim_of(one, fields)}, headers=headers)
        elif service == "retrieve":
            response = http.post("/exchange/v1/retrieve", json={**base, "personal_id": one["personal_id"],
                                                                "fields": [fields[0]]}, headers=headers)
        elif service == "batch_verify":
            items = [{"personal_id": p["personal_id"], **claim_of(p, fields)} for p in (one, two)]
            response = http.post("/exchange/v1/verify/batch", json={**base, "items": items}, headers=headers)
        elif service == "enrichment_push" and sources:
            record = {"so_dinh_danh": two["personal_id"], "ho_ten": two["full_name"],
                      "ma_the": f"GD4{random.randrange(10**12, 10**13)}"}
            response = http.post("/exchange/v1/enrichment", json={**base, "source": sources[0],
                                                                  "records": [record]}, headers=headers)
        else:
            continue
        assert response.status_code == 200, response.text
        made[service] = made.get(service, 0) + (2 if service == "batch_verify" else 1)
    return made


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def approved_security() -> dict[str, Any]:
    body = step_body(5)
    body["data"]["assessment"]["approved_by"] = "Cục trưởng C06"
    return body


def live_platform(http: httpx.Client, model: str = "lgsp") -> str:
    """A relaying platform (NDXP/LGSP) taken live, with its approved security assessment."""
    return walk(http, kind="integration_platform", org_type="province", bodies={5: approved_security()})[1]
