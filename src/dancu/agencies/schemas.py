"""Request and response shapes of connected systems (JSON over HTTP, and the CLI's JSON files)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from dancu.agencies.domain import ConnectionModel, CredentialKind, FocalPointChangeKind, OrganisationType, SystemKind
from dancu.agencies.identifiers import PART, InvalidIdentifier, parse_system
from dancu.policy.domain import Service
from dancu.registry.domain import RECORD_FIELDS

NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, Field(min_length=1, max_length=500, pattern=NO_NUL)]
LongText = Annotated[str, Field(min_length=1, max_length=5000, pattern=NO_NUL)]
Part = Annotated[str, Field(min_length=1, max_length=64, pattern=PART.pattern)]


def _known_field(name: str) -> str:
    if name not in RECORD_FIELDS:
        raise ValueError(f"unknown field {name!r}; fields are those of the population record")
    return name


def _system_identifier(value: str) -> str:
    try:
        return str(parse_system(value))
    except InvalidIdentifier as error:
        raise ValueError(str(error)) from None


RecordField = Annotated[str, AfterValidator(_known_field)]
SourceCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,30}$", description="Sector source code, e.g. bhyt")]
Sources = Annotated[list[SourceCode], Field(max_length=20, description="Sector sources (dancu sync sources) the "
                                                                       "system pushes enrichment data for")]
SystemIdentifier = Annotated[str, Field(max_length=300), AfterValidator(_system_identifier)]
Code = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]  # what a call puts in purpose
Purposes = Annotated[list[Code], Field(max_length=50)]
LegalBases = Annotated[list[Code], Field(max_length=50)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrganisationIn(Strict):
    instance: Part
    member_class: Part
    member_code: Part
    name: Text
    type: OrganisationType


class SystemIn(Strict):
    subsystem_code: Part
    name: Text
    kind: SystemKind = SystemKind.BUSINESS


Phone = Annotated[str, Field(min_length=6, max_length=20, pattern=r"^\+?[0-9 .()\-]{6,20}$")]
Email = Annotated[str, Field(max_length=200, pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$")]


class FocalPointIn(Strict):
    name: Text
    position: Text = Field(description="Chức vụ — position")
    function: Text = Field(description="Chức năng, nhiệm vụ — what they do for the connection")
    phone: Phone
    email: Email


class FocalPointCreate(FocalPointIn):
    """A focal point named after onboarding (an officer who takes over, a second contact): public at once."""

    reason: LongText = Field(description="Why — e.g. the agency's letter naming the officer (kept in the history)")


class FocalPointUpdate(Strict):
    """New position, function, phone or e-mail of a focal point (another person is another focal point)."""

    position: Text | None = None
    function: Text | None = None
    phone: Phone | None = None
    email: Email | None = None
    reason: LongText = Field(description="Why (kept in the history)")

    @model_validator(mode="after")
    def _something(self) -> FocalPointUpdate:
        if all(getattr(self, name) is None for name in ("position", "function", "phone", "email")):
            raise ValueError("give at least one of position, function, phone, email")
        return self


class WithdrawBody(Strict):
    reason: LongText = Field(description="Why the officer is no longer a focal point (kept in the history)")


class DocumentIn(Strict):
    name: Text
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the document, lowercase hex")


class OnboardingCreate(Strict):
    """Step 1 — the request letter (văn bản đề nghị)."""

    organisation: OrganisationIn
    system: SystemIn
    legal_mandate: LongText = Field(description="Căn cứ pháp lý — the law or decision that mandates access")
    purpose: LongText
    services: list[Service] = Field(min_length=1)
    fields: list[RecordField] = Field(min_length=1)
    sources: Sources = Field(default_factory=list)
    purposes: Purposes = Field(default_factory=list, description=(
        "Purpose codes the system will declare on each call (purpose), e.g. kyc_account_opening: the test "
        "policy lists them from step 7, the production policy may grant no other"))
    legal_bases: LegalBases = Field(default_factory=list, description=(
        "Legal-basis codes it will declare (legal_basis); when listed, the policies may grant no other"))
    proposed_focal_point: FocalPointIn
    documents: list[DocumentIn] = Field(default_factory=list, max_length=50)
    notes: LongText | None = None


class StepBody(Strict):
    """Steps 2–10: who acts comes from X-Dancu-Actor; ``data`` is checked against the step's own shape."""

    documents: list[DocumentIn] = Field(default_factory=list, max_length=50)
    decision: Literal["approve", "reject"] | None = None
    notes: LongText | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class FocalPointsData(Strict):
    focal_points: list[FocalPointIn] = Field(default_factory=list, max_length=20,
                                             description="Empty: publish the focal point proposed at step 1")


class ShareItem(Strict):
    dataset: Text
    description: LongText | None = None
    form: Literal["api", "file", "document", "portal"]
    status: Literal["sharing", "ready", "planned"]


class ReadinessData(Strict):
    catalogue_url: Annotated[str, Field(max_length=500, pattern=r"^https?://[^\s\x00]+$")] | None = None
    shares: list[ShareItem] = Field(min_length=1, max_length=200)


class DesignData(Strict):
    connection_model: ConnectionModel
    via_platform: SystemIdentifier | None = None
    summary: LongText | None = None


class Assessment(Strict):
    assessor: Text
    assessed_on: date
    result: Literal["passed", "failed"]
    approved_by: Text | None = None


class SecurityData(Strict):
    security_level: int = Field(ge=1, le=5, description="Cấp độ an toàn hệ thống thông tin (1–5)")
    attested_by: Text
    assessment: Assessment


class CredentialIn(Strict):
    """A public JWK (private_key_jwt) or a client-certificate SHA-256 thumbprint (tls_client_auth)."""

    jwk: dict[str, Any] | None = None
    cert_thumbprint: Annotated[str, Field(max_length=100)] | None = None

    @model_validator(mode="after")
    def _one(self) -> CredentialIn:
        if (self.jwk is None) == (self.cert_thumbprint is None):
            raise ValueError("give exactly one of jwk and cert_thumbprint")
        return self


class Step7Policy(Strict):
    """What step 7 may set in the test policy instead of the defaults; within the request letter."""

    purposes: Purposes | None = Field(default=None, description="Default: the letter's purposes")
    legal_bases: LegalBases | None = Field(default=None, description="Default: the letter's legal bases")
    daily_quota: int | None = Field(default=None, gt=0, le=100_000, description="Default 1,000 records a day")
    rate_per_second: int | None = Field(default=None, gt=0, le=100, description="Default 10 requests a second")
    must_name_end_user: bool | None = Field(default=None, description="Default false")


class Step7Data(CredentialIn):
    """Step 7: the test key (or certificate) and, optionally, choices for the test policy."""

    test_policy: Step7Policy | None = None


class PolicyGrantIn(Strict):
    services: list[Service] = Field(min_length=1)
    fields: list[RecordField] = Field(default_factory=list)
    purposes: list[Text] = Field(min_length=1)
    legal_bases: list[Text] = Field(default_factory=list)
    daily_quota: int = Field(gt=0, le=10**10)
    rate_per_second: int = Field(gt=0, le=100_000)
    must_name_end_user: bool = False
    sources: Sources = Field(default_factory=list)


class ProductionData(Strict):
    credential: CredentialIn
    policy: PolicyGrantIn


class Empty(Strict):
    pass


STEP_DATA: dict[int, type[BaseModel]] = {
    2: FocalPointsData, 3: ReadinessData, 4: DesignData, 5: SecurityData, 6: Empty, 7: Step7Data,
    8: Empty, 9: ProductionData, 10: Empty,
}


class CredentialCreate(CredentialIn):
    kind: CredentialKind


class SuspendBody(Strict):
    reason: LongText
    until: datetime | None = Field(default=None, description="Tự động hoạt động lại sau thời điểm này")


class ReasonBody(Strict):
    reason: LongText | None = None


class StepView(BaseModel):
    step: int
    name_vi: str
    actor: str
    recorded_at: datetime
    documents: list[dict[str, str]]
    decision: str | None
    notes: str | None
    data: dict[str, Any]


class OnboardingView(BaseModel):
    request_id: int
    system: str
    state: str
    next_step: int | None
    next_step_name_vi: str | None
    steps: list[StepView]


class CredentialView(BaseModel):
    kid: str
    kind: str
    method: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


class StatusChangeView(BaseModel):
    """One suspension, resumption or termination (tạm ngừng, tiếp tục, chấm dứt): who, when, why, until when."""

    status: str
    actor: str
    reason: str | None
    until: datetime | None
    changed_at: datetime


class FocalPointView(BaseModel):
    """A focal point (cán bộ đầu mối): public while ``published`` and not withdrawn."""

    focal_point_id: int
    organisation: str
    name: str
    position: str
    function: str
    phone: str
    email: str
    published: bool
    created_at: datetime
    withdrawn_at: datetime | None


class FocalPointChangeView(BaseModel):
    """One change to a focal point: who, when, why, and ``changes`` as ``{field: [old, new]}``."""

    focal_point_id: int
    name: str
    change: FocalPointChangeKind
    actor: str
    reason: str | None
    changes: dict[str, list[str | None]]
    changed_at: datetime


class OrganisationSystemView(BaseModel):
    identifier: str
    name: str
    status: str
    listed: bool = Field(description="In the public directory (live, suspended, or onboarding past step 2)")


class OrganisationView(BaseModel):
    identifier: str
    name: str
    type: str
    systems: list[OrganisationSystemView]
    focal_points: list[FocalPointView] = Field(description="Current focal points (withdrawn ones only in the history)")
    focal_point_history: list[FocalPointChangeView] = Field(
        description="Every change to its focal points, withdrawn ones' included, oldest first")


class SystemView(BaseModel):
    identifier: str
    name: str
    kind: str
    organisation: str
    organisation_type: str
    status: str
    status_reason: str | None
    suspended_until: datetime | None
    connection_model: str | None
    via_platform: str | None
    credentials: list[CredentialView]
    status_history: list[StatusChangeView] = Field(
        default_factory=list, description="Every suspension, resumption and termination, oldest first")
    focal_points: list[FocalPointView] = Field(default_factory=list,
                                               description="Its organisation's current focal points")
    focal_point_history: list[FocalPointChangeView] = Field(
        default_factory=list, description="Every change to its organisation's focal points, oldest first")


MAX_HTTP_RESIDENTS = 10_000  # POST /agencies/sandbox: at most one chunk; larger sandboxes with the CLI


class SandboxLoadBody(Strict):
    residents: int = Field(ge=1, le=MAX_HTTP_RESIDENTS,
                           description="The sandbox holds at least this many synthetic residents afterwards (larger "
                                       "sandboxes: dancu agencies sandbox load)")


class SandboxLoadView(BaseModel):
    job_key: str
    state: str
    residents: int
    loaded: int
    seed: int
    loaded_by: str | None
    started_at: datetime
    finished_at: datetime | None


class SandboxView(BaseModel):
    """The test environment's residents: synthetic, no real person (see docs/agencies.md#the-sandbox)."""

    residents: int
    loads: list[SandboxLoadView]
    note: str
    note_en: str


class MeView(BaseModel):
    system: str
    status: str
    credential_kind: str


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    credential_kind: CredentialKind


class OAuthErrorBody(BaseModel):
    """RFC 6749 §5.2 error; ``dancu_code`` adds our precise code where one exists."""

    error: Literal["invalid_request", "invalid_client", "unsupported_grant_type", "unauthorized_client"]
    error_description: str
    dancu_code: str | None = None
