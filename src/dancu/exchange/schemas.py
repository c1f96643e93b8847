"""Request and response bodies of the exchange API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from dancu.exchange.domain import Claim
from dancu.registry.domain import RECORD_FIELDS, PartialDate, PartialDateError
from dancu.sync.push.domain import MAX_RECORDS


def _no_nul(value: str) -> str:
    """Text a caller sends may be logged (purpose, legal basis, personal IDs) or staged: PostgreSQL text holds
    no NUL, so one is a malformed request (422), never a failed write (503/500)."""
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


NoNul = AfterValidator(_no_nul)
Short = Annotated[str, Field(max_length=200), NoNul]
FieldResult = Literal["match", "no_match", "not_provided"]
Outcome = Literal["ok", "resident_not_found", "resident_deceased", "resident_missing", "invalid_id_number"]


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")
    province: Annotated[str, Field(max_length=10), NoNul] | None = Field(
        None, description="Permanent residence province code")
    commune: Annotated[str, Field(max_length=10), NoNul] | None = Field(
        None, description="Permanent residence commune code")
    text: Annotated[str, Field(max_length=500), NoNul] | None = Field(None, description="Permanent address text")


class VerifyItem(BaseModel):
    """A claim about one resident: the personal ID number and any of the fields to compare."""

    model_config = ConfigDict(extra="forbid")
    personal_id: Annotated[str, Field(max_length=32, description="Số định danh cá nhân (12 digits)"), NoNul]
    full_name: Short | None = None
    date_of_birth: Annotated[str, Field(max_length=10, description="YYYY, YYYY-MM or YYYY-MM-DD")] | None = None
    sex: Annotated[str, Field(max_length=8, description="Sex code of the 'sex' catalogue (ISO 5218)"),
                   NoNul] | None = None
    address: Address | None = None

    @field_validator("date_of_birth")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                PartialDate.parse(value)
            except PartialDateError as error:
                raise ValueError(str(error)) from None
        return value

    def claim(self) -> Claim:
        a = self.address
        if a is None:  # the usual case: no throw-away Address model per call
            return Claim(self.personal_id.strip(), self.full_name, self.date_of_birth, self.sex)
        return Claim(self.personal_id.strip(), self.full_name, self.date_of_birth, self.sex, a.province, a.commune,
                     a.text)


class Purposeful(BaseModel):
    purpose: Short | None = Field(None, description="Declared purpose (required; must be one the policy lists)")
    legal_basis: Short | None = Field(None, description="Legal basis, when the policy lists legal bases")


class VerifyRequest(VerifyItem, Purposeful):
    pass


class VerifyResult(BaseModel):
    match: bool = Field(description="True only when every provided field matches")
    code: Outcome
    fields: dict[str, FieldResult]
    date_of_birth_precision: Literal["year", "month", "day"] | None = None


class VerifyResponse(VerifyResult):
    correlation_id: str
    log_seq: int = Field(description="Position of this exchange in the exchange log")


class BatchRequest(Purposeful):
    model_config = ConfigDict(extra="forbid")
    items: Annotated[list[VerifyItem], Field(min_length=1, max_length=1000)]


class BatchResult(VerifyResult):
    index: int
    log_seq: int


class BatchResponse(BaseModel):
    correlation_id: str
    items: list[BatchResult]


RecordField = Literal[RECORD_FIELDS]  # type: ignore[valid-type]


class RetrieveRequest(Purposeful):
    model_config = ConfigDict(extra="forbid")
    personal_id: Annotated[str, Field(max_length=32), NoNul]
    fields: Annotated[list[RecordField], Field(min_length=1, max_length=len(RECORD_FIELDS))]


class SourcedValue(BaseModel):
    value: Any
    source: str | None
    updated_at: str | None


class RetrieveResponse(BaseModel):
    personal_id: str
    code: Literal["ok", "resident_deceased", "resident_missing"]
    fields: dict[str, SourcedValue]
    correlation_id: str
    log_seq: int


class JobView(BaseModel):
    job_id: int
    state: str = Field(description="receiving | running | done | stopped")
    total: int
    done: int
    error: str | None = None
    results_url: str


# -- enrichment push -------------------------------------------------------------------------------------
SourceCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,30}$", description="Sector source code, e.g. bhyt")]
Column = Annotated[str, Field(min_length=1, max_length=64)]
SectorValue = Annotated[str, Field(max_length=200)] | None
SectorRecord = Annotated[dict[Column, SectorValue], Field(max_length=32)]


class EnrichmentPush(Purposeful):
    """A batch of one sector source's records, with the source's own column names (see docs/sync.md)."""

    model_config = ConfigDict(extra="forbid")
    source: SourceCode
    records: Annotated[list[SectorRecord], Field(
        min_length=1, max_length=MAX_RECORDS,
        description="One object per record: the source's columns (strings; null or absent = not known)")]


class RejectedRecord(BaseModel):
    index: int = Field(description="Position of the record in the pushed records (0-based)")
    reasons: list[str]


class EnrichmentJob(BaseModel):
    job_id: int
    state: Literal["running", "done"] = Field(description="done: every record judged; running: another "
                                                        "request is synchronising the same batch")
    source: str
    batch_sha256: str = Field(description="SHA-256 of the batch's canonical JSON Lines: the same batch, the same job")
    records: int = Field(description="Records in the batch")
    processed: int = Field(description="Records judged so far")
    outcomes: dict[str, int] = Field(description="linked | review | unmatched_id | rejected → count")
    reasons: dict[str, int] = Field(description="'<outcome>:<reason>' → count")
    rejected: list[RejectedRecord] = Field(description="Every rejected record and why (its own data is at fault)")
    demographic: dict[str, int] | None = Field(description="Once the database manager has run demographic "
                                                           "matching on the job: its outcomes → count")
    job_url: str
    replayed: bool | None = Field(None, description="Push answers only: true when this push applied nothing "
                                                    "(the batch was already synchronised)")
    correlation_id: str | None = Field(None, description="Push answers only")
    log_seq: int | None = Field(None, description="Push answers only: the push's exchange-log entry")


# -- the sandbox ----------------------------------------------------------------------------------------------
class SandboxResident(BaseModel):
    """A synthetic resident of the test environment (no real person)."""

    cursor: int = Field(description="Pass as ?after= to read the next page")
    personal_id: str
    full_name: str
    date_of_birth: str | None
    sex: str
    permanent_province: str | None
    permanent_commune: str | None
    permanent_address: str | None


class SandboxResidents(BaseModel):
    residents: list[SandboxResident]
    next_after: int | None = Field(description="The next page's ?after=, null on the last page")
    note: str
    correlation_id: str
    log_seq: int
