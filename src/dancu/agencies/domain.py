"""Organisations, systems and their status, focal points and what may change in them — plain values, no I/O."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from enum import StrEnum


class OrganisationType(StrEnum):
    """Kinds of organisation (cơ quan, tổ chức) that may connect, with their Vietnamese names."""

    NATIONAL_DATABASE_OWNER = "national_database_owner"
    SECTOR_DATABASE_OWNER = "sector_database_owner"
    MINISTRY = "ministry"
    PROVINCE = "province"
    STATE_AGENCY = "state_agency"
    POLITICAL_ORGANISATION = "political_organisation"
    CREDIT_INSTITUTION = "credit_institution"
    TELECOM = "telecom"
    SIGNATURE_CA = "signature_ca"
    EID_PROVIDER = "eid_provider"
    NOTARY = "notary"
    BAILIFF_OFFICE = "bailiff_office"
    PUBLIC_SERVICE_PROVIDER = "public_service_provider"

    @property
    def name_vi(self) -> str:
        return ORGANISATION_TYPE_NAMES_VI[self]


ORGANISATION_TYPE_NAMES_VI: dict[OrganisationType, str] = {
    OrganisationType.NATIONAL_DATABASE_OWNER: "Cơ quan quản lý cơ sở dữ liệu quốc gia",
    OrganisationType.SECTOR_DATABASE_OWNER: "Cơ quan quản lý cơ sở dữ liệu chuyên ngành",
    OrganisationType.MINISTRY: "Bộ, cơ quan ngang bộ",
    OrganisationType.PROVINCE: "Ủy ban nhân dân tỉnh, thành phố",
    OrganisationType.STATE_AGENCY: "Cơ quan nhà nước",
    OrganisationType.POLITICAL_ORGANISATION: "Tổ chức chính trị, chính trị - xã hội",
    OrganisationType.CREDIT_INSTITUTION: "Tổ chức tín dụng",
    OrganisationType.TELECOM: "Doanh nghiệp viễn thông, di động",
    OrganisationType.SIGNATURE_CA: "Tổ chức cung cấp dịch vụ chứng thực chữ ký số",
    OrganisationType.EID_PROVIDER: "Tổ chức cung cấp dịch vụ xác thực điện tử",
    OrganisationType.NOTARY: "Tổ chức hành nghề công chứng",
    OrganisationType.BAILIFF_OFFICE: "Văn phòng thừa phát lại",
    OrganisationType.PUBLIC_SERVICE_PROVIDER: "Đơn vị cung cấp dịch vụ công",
}


class SystemKind(StrEnum):
    """What a system is; decides which connection models and security rules apply."""

    BUSINESS = "business"
    PUBLIC_SERVICE_PORTAL = "public_service_portal"
    ADMINISTRATIVE_PROCEDURE = "administrative_procedure"
    INTEGRATION_PLATFORM = "integration_platform"  # an NDXP/LGSP platform that relays for others

    @property
    def relays(self) -> bool:
        return self is SystemKind.INTEGRATION_PLATFORM


class ConnectionModel(StrEnum):
    DIRECT = "direct"
    NDXP = "ndxp"
    LGSP = "lgsp"
    DOCUMENT_AXIS = "document_axis"


DOCUMENT_AXIS_KINDS = frozenset({SystemKind.PUBLIC_SERVICE_PORTAL, SystemKind.ADMINISTRATIVE_PROCEDURE})


class SystemStatus(StrEnum):
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    REJECTED = "rejected"


STATUS_NAMES_VI = {
    SystemStatus.ONBOARDING: "Đang kết nối",
    SystemStatus.ACTIVE: "Đang hoạt động",
    SystemStatus.SUSPENDED: "Tạm ngừng",
    SystemStatus.TERMINATED: "Đã chấm dứt",
    SystemStatus.REJECTED: "Bị từ chối",
}


class CredentialKind(StrEnum):
    TEST = "test"
    PRODUCTION = "production"


class CredentialMethod(StrEnum):
    PRIVATE_KEY_JWT = "private_key_jwt"  # RFC 7523
    TLS_CLIENT_AUTH = "tls_client_auth"  # RFC 8705, certificate thumbprint from the TLS terminator


def effective_status(status: str, suspended_until: datetime | None, now: datetime) -> SystemStatus:
    """The status in force at ``now``: a suspension with an end date lifts itself once that date passes."""
    current = SystemStatus(status)
    if current is SystemStatus.SUSPENDED and suspended_until is not None and suspended_until <= now:
        return SystemStatus.ACTIVE
    return current


def statuses_allowed(kind: CredentialKind) -> frozenset[SystemStatus]:
    """Which system statuses a credential of ``kind`` works in: test ones from step 7 (and after go-live), production
    ones from go-live.  Where a call may reach is the exchange's rule, not this one: a test credential only the
    sandbox's synthetic residents, under the test policy (``dancu.policy.domain.outside_sandbox``)."""
    if kind is CredentialKind.TEST:
        return frozenset({SystemStatus.ONBOARDING, SystemStatus.ACTIVE})
    return frozenset({SystemStatus.ACTIVE})


# -- focal points (cán bộ đầu mối) ---------------------------------------------------------------------------
class FocalPointChangeKind(StrEnum):
    """What happened to a focal point; each is a ``focal_point_change`` row with who, when and why."""

    PROPOSED = "proposed"  # named in the request letter (step 1); not public yet
    ADDED = "added"  # named at step 2, or by an operator since; public at once
    PUBLISHED = "published"  # a proposed one made public at step 2
    UPDATED = "updated"  # position, function, phone or email changed
    WITHDRAWN = "withdrawn"  # no longer the agency's focal point: gone from the directory, kept in the history


FOCAL_POINT_FIELDS = ("name", "position", "function", "phone", "email")
UPDATABLE_FOCAL_POINT_FIELDS = ("position", "function", "phone", "email")  # another officer is another focal point


def focal_point_changes(current: Mapping[str, str], given: Mapping[str, str | None]) -> dict[str, list[str]]:
    """``{field: [old, new]}`` for each updatable field ``given`` sets to something other than ``current``'s."""
    return {name: [current[name], value] for name, value in given.items()
            if name in UPDATABLE_FOCAL_POINT_FIELDS and value is not None and value != current[name]}


def leaves_no_focal_point(published_after: int, listed_systems: Collection[str]) -> bool:
    """True when a change would leave an organisation the directory lists (``listed_systems``: its systems that are
    live, suspended or onboarding past step 2) with no published focal point."""
    return published_after == 0 and bool(listed_systems)
