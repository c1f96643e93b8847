"""Onboarding in 10 recorded steps (10 bước kết nối) — a pure state machine, no database.

Steps happen once each, in order 1..10; a rejection at step 6 closes the request.  Each step records
who, when, which documents (name and SHA-256), the decision and notes, and its own data.  The
conditions that span steps (connection model vs. system kind, security assessment of relaying
platforms, test policy and production policy within the request, the test run's calls) are checked here,
and so are the documents three steps cannot do without (:data:`DOCUMENTED_STEPS`): the request letter itself
(step 1), the security-level dossier or assessment report (step 5), the written decision (step 6); the shape of
each step's data is checked by ``schemas.STEP_DATA``.

Steps 7 and 8 are the test environment: step 7 issues test credentials and a **test policy** — the scope
of the request letter (:func:`sandbox_policy`), in force for test credentials only, on sandbox residents only;
step 8 is passed only when the exchange log holds the system's own successful test calls since step 7, at
least one per requested service (:func:`required_test_services`).  The counts come from the log (the
service layer reads them into the step's data); nothing the caller declares is taken for a test run.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from dancu.agencies.domain import DOCUMENT_AXIS_KINDS, ConnectionModel, SystemKind
from dancu.agencies.errors import StepInvalid, StepOutOfOrder
from dancu.policy.domain import Service

MIN_SECURITY_LEVEL = 3
TEST_DAILY_QUOTA = 1_000  # records a day under the test policy, unless step 7 sets another
TEST_RATE_PER_SECOND = 10
MIN_TEST_CALLS = 1  # successful test calls per required service before step 8 passes


class StepNo(IntEnum):
    REQUEST_LETTER = 1
    FOCAL_POINT = 2
    DATA_READINESS = 3
    TECHNICAL_DESIGN = 4
    SECURITY = 5
    DECISION = 6
    TEST_CREDENTIALS = 7
    TEST_CONNECTION = 8
    PRODUCTION = 9
    GO_LIVE = 10


DOCUMENTED_STEPS: dict[int, str] = {  # step -> the rule that refuses it without a document
    StepNo.REQUEST_LETTER: "letter_document_missing",
    StepNo.SECURITY: "security_document_missing",
    StepNo.DECISION: "decision_document_missing",
}

STEP_NAMES_VI = {
    1: "Văn bản đề nghị kết nối", 2: "Cử và công khai cán bộ đầu mối", 3: "Công bố mức sẵn sàng và danh mục dữ liệu",
    4: "Thiết kế kỹ thuật, mô hình kết nối", 5: "Bảo đảm an toàn thông tin (cấp độ 3 trở lên), đánh giá an ninh",
    6: "Thẩm định và quyết định của cơ quan quản lý", 7: "Cấp tài khoản kiểm thử", 8: "Kết nối kiểm thử",
    9: "Cấp tài khoản chính thức, kích hoạt chính sách", 10: "Đưa vào vận hành chính thức",
}


class OnboardingState(StrEnum):
    IN_PROGRESS = "in_progress"
    REJECTED = "rejected"
    LIVE = "live"


@dataclass(frozen=True)
class Document:
    name: str
    sha256: str


@dataclass(frozen=True)
class Step:
    number: int
    actor: str
    at: datetime
    documents: tuple[Document, ...] = ()
    decision: str | None = None
    notes: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Onboarding:
    system_kind: SystemKind
    steps: tuple[Step, ...] = ()

    @property
    def state(self) -> OnboardingState:
        if any(s.number == StepNo.DECISION and s.decision == "reject" for s in self.steps):
            return OnboardingState.REJECTED
        if len(self.steps) == len(StepNo):
            return OnboardingState.LIVE
        return OnboardingState.IN_PROGRESS

    @property
    def expected_step(self) -> int | None:
        """The next step to record, or ``None`` once the request is closed (rejected or live)."""
        return len(self.steps) + 1 if self.state is OnboardingState.IN_PROGRESS else None

    def step(self, number: int) -> Step:
        return self.steps[number - 1]


def record(onboarding: Onboarding, step: Step) -> Onboarding:
    """``onboarding`` with ``step`` appended, or :class:`StepOutOfOrder` / :class:`StepInvalid`."""
    expected = onboarding.expected_step
    if step.number != expected:
        raise StepOutOfOrder(step.number, expected)
    CHECKS.get(step.number, _no_check)(onboarding, step)
    return Onboarding(onboarding.system_kind, (*onboarding.steps, step))


def _no_check(onboarding: Onboarding, step: Step) -> None:
    return None


def _invalid(step: Step, rule: str, vi: str, en: str) -> StepInvalid:
    return StepInvalid(step.number, rule, vi, en)


def _require_documents(step: Step, vi: str, en: str) -> None:
    """A step that stands on a document (:data:`DOCUMENTED_STEPS`) is refused without one, under its own rule."""
    if not step.documents:
        raise _invalid(step, DOCUMENTED_STEPS[step.number], vi, en)


def _check_letter(onboarding: Onboarding, step: Step) -> None:
    _require_documents(step, "Thiếu văn bản đề nghị kết nối: đính kèm chính văn bản (tên tệp và mã SHA-256).",
                       "The request letter itself is missing: attach it (document name and SHA-256).")


def _require_security_document(onboarding: Onboarding, step: Step) -> None:
    if onboarding.system_kind.relays:
        vi = ("Nền tảng trung gian phải đính kèm văn bản đánh giá an ninh đã được phê duyệt "
              "(và hồ sơ cấp độ an toàn thông tin).")
        en = "A relaying platform must attach its approved security assessment (and its security-level dossier)."
    else:
        vi = "Phải đính kèm hồ sơ cấp độ an toàn thông tin hoặc báo cáo đánh giá an ninh."
        en = "Attach the information-security level dossier or the security assessment report."
    _require_documents(step, vi, en)


def _check_design(onboarding: Onboarding, step: Step) -> None:
    model = ConnectionModel(step.data["connection_model"])
    if model is ConnectionModel.DOCUMENT_AXIS and onboarding.system_kind not in DOCUMENT_AXIS_KINDS:
        raise _invalid(step, "document_axis_not_allowed",
                       "Trục liên thông văn bản chỉ dành cho Cổng dịch vụ công và hệ thống giải quyết TTHC.",
                       "The document-exchange axis is only for the public-service portal and "
                       "administrative-procedure systems.")
    if model in (ConnectionModel.NDXP, ConnectionModel.LGSP) and not step.data.get("via_platform"):
        raise _invalid(step, "platform_required", "Phải nêu nền tảng trung gian (NDXP/LGSP).",
                       "Name the relaying platform (NDXP/LGSP) the system connects through.")


def _check_security(onboarding: Onboarding, step: Step) -> None:
    if int(step.data["security_level"]) < MIN_SECURITY_LEVEL:
        raise _invalid(step, "security_level_too_low", "Hệ thống phải đạt cấp độ an toàn thông tin 3 trở lên.",
                       "The system must meet information-security level 3 or higher.")
    assessment = step.data["assessment"]
    if assessment["result"] != "passed":
        raise _invalid(step, "security_assessment_failed", "Kết quả đánh giá an ninh chưa đạt.",
                       "The security assessment did not pass.")
    if onboarding.system_kind.relays and not assessment.get("approved_by"):
        raise _invalid(step, "relay_approval_required",
                       "Nền tảng trung gian phải được phê duyệt đánh giá an ninh trước khi chuyển tiếp.",
                       "A platform that relays for others needs its security assessment approved.")
    _require_security_document(onboarding, step)


def _check_decision(onboarding: Onboarding, step: Step) -> None:
    if step.decision not in ("approve", "reject"):
        raise _invalid(step, "decision_required", "Quyết định phải là approve hoặc reject.",
                       "The decision must be approve or reject.")
    if step.decision == "reject" and not (step.notes and step.notes.strip()):
        raise _invalid(step, "reasons_required", "Từ chối phải nêu rõ lý do.", "A rejection must give reasons.")
    _require_documents(step, "Phải đính kèm văn bản thẩm định, quyết định (phê duyệt, hoặc văn bản trả lời từ "
                             "chối nêu lý do).",
                       "Attach the written decision (the approval, or the reply that refuses and gives the reasons).")


def sandbox_policy(letter: Mapping[str, Any], chosen: Mapping[str, Any] | None = None,
                known_sources: Collection[str] | None = None) -> dict[str, Any]:
    """The test policy step 7 activates: the services, fields, sources, purposes and legal bases of the request
    letter, a small quota and rate — each of purposes, legal bases, quota, rate and the end-user rule may be
    set at step 7 instead (``chosen``; ``None`` values keep the default).  Sources are those of the letter the
    deployment synchronises (``known_sources``; a push for another one could not be tested anyway)."""
    chosen = {k: v for k, v in (chosen or {}).items() if v is not None}
    sources = set(letter.get("sources", ()))
    return {
        "services": sorted(set(letter.get("services", ()))), "fields": sorted(set(letter.get("fields", ()))),
        "sources": sorted(sources if known_sources is None else sources & set(known_sources)),
        "purposes": sorted(set(chosen.get("purposes", letter.get("purposes", ())))),
        "legal_bases": sorted(set(chosen.get("legal_bases", letter.get("legal_bases", ())))),
        "daily_quota": int(chosen.get("daily_quota", TEST_DAILY_QUOTA)),
        "rate_per_second": int(chosen.get("rate_per_second", TEST_RATE_PER_SECOND)),
        "must_name_end_user": bool(chosen.get("must_name_end_user", False)),
    }


def required_test_services(scope: Mapping[str, Any]) -> list[str]:
    """The services step 8 wants a successful test call of: every service of the test policy (those the letter
    requests) — ``enrichment_push`` only when it grants a sector source (without one every push is refused)."""
    services = set(scope.get("services", ()))
    if not scope.get("sources"):
        services.discard(Service.ENRICHMENT_PUSH)
    return sorted(services)


def sandbox_scope(onboarding: Onboarding) -> Mapping[str, Any]:
    """The test policy recorded at step 7 (a request whose step 7 predates it: its letter's scope)."""
    recorded: Mapping[str, Any] | None = onboarding.step(StepNo.TEST_CREDENTIALS).data.get("test_policy")
    return recorded or onboarding.step(StepNo.REQUEST_LETTER).data


def _beyond(requested: Mapping[str, Any], granted: Mapping[str, Any], step: Step, keys: tuple[str, ...],
            what_vi: str, what_en: str) -> None:
    """Refuse a grant of more ``keys`` than the letter requested; purposes and legal bases only when the letter
    lists them (letters before 2026-12 named none)."""
    for key in keys:
        if key in ("purposes", "legal_bases") and not requested.get(key):
            continue
        beyond = sorted(set(granted.get(key, ())) - set(requested.get(key, ())))
        if beyond:
            raise StepInvalid(step.number, f"{key}_beyond_request",
                              f"{what_vi} cấp vượt quá đề nghị: {', '.join(beyond)}.",
                              f"The {what_en} grants more {key} than requested: {', '.join(beyond)}.",
                              beyond=beyond)


def _check_test_credentials(onboarding: Onboarding, step: Step) -> None:
    letter = onboarding.step(StepNo.REQUEST_LETTER).data
    granted = step.data.get("test_policy") or {}
    _beyond(letter, granted, step, ("services", "fields", "sources", "purposes", "legal_bases"),
            "Chính sách kiểm thử", "test policy")
    if not granted.get("purposes"):
        raise _invalid(step, "test_purposes_missing",
                       "Chưa có mục đích sử dụng nào cho chính sách kiểm thử: văn bản đề nghị (purposes) hoặc "
                       "bước 7 (test_policy.purposes) phải nêu.",
                       "The test policy would list no purpose: name them in the request letter (purposes) or at "
                       "step 7 (test_policy.purposes).")


def _check_test_run(onboarding: Onboarding, step: Step) -> None:
    calls: Mapping[str, int] = step.data.get("calls") or {}
    required = required_test_services(sandbox_scope(onboarding))
    missing = [name for name in required if calls.get(name, 0) < MIN_TEST_CALLS]
    if missing:
        raise StepInvalid(
            step.number, "test_calls_missing",
            f"Nhật ký chia sẻ chưa có lời gọi kiểm thử thành công của hệ thống cho dịch vụ: {', '.join(missing)} "
            "(gọi bằng khóa kiểm thử, trên công dân của môi trường kiểm thử, từ bước 7).",
            f"The exchange log holds no successful test call by this system for: {', '.join(missing)} "
            "(made with its test credentials, on sandbox residents, since step 7).",
            missing=missing, calls=dict(calls), required=required, since=step.data.get("since"))


def _check_policy(onboarding: Onboarding, step: Step) -> None:
    requested = onboarding.step(StepNo.REQUEST_LETTER).data
    policy = step.data["policy"]
    _beyond(requested, policy, step, ("services", "fields", "sources", "purposes", "legal_bases"), "Chính sách",
            "policy")
    if policy.get("sources") and "enrichment_push" not in policy["services"]:
        raise _invalid(step, "sources_without_push", "Chỉ cấp nguồn dữ liệu khi cho phép dịch vụ enrichment_push.",
                       "Sector sources are granted only with the enrichment_push service.")


CHECKS: dict[int, Callable[[Onboarding, Step], None]] = {
    StepNo.REQUEST_LETTER: _check_letter,
    StepNo.TECHNICAL_DESIGN: _check_design,
    StepNo.SECURITY: _check_security,
    StepNo.DECISION: _check_decision,
    StepNo.TEST_CREDENTIALS: _check_test_credentials,
    StepNo.TEST_CONNECTION: _check_test_run,
    StepNo.PRODUCTION: _check_policy,
}
