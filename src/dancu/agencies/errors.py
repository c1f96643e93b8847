"""Errors of connected systems, each with a stable code and its HTTP status."""

from __future__ import annotations

from typing import Any

from dancu.errors import Conflict, DancuError, NotFound


class OrganisationNotFound(NotFound):
    code = "organisation_not_found"
    title_vi = "Không tìm thấy cơ quan, tổ chức"
    title_en = "Organisation not found"

    def __init__(self, key: object) -> None:
        super().__init__(f"Không có cơ quan, tổ chức {key}.", f"No organisation {key}.")


class SystemNotFound(NotFound):
    code = "system_not_found"
    title_vi = "Không tìm thấy hệ thống thông tin"
    title_en = "Information system not found"

    def __init__(self, key: object) -> None:
        super().__init__(f"Không có hệ thống thông tin {key}.", f"No information system {key}.")


class OnboardingNotFound(NotFound):
    code = "onboarding_not_found"
    title_vi = "Không tìm thấy hồ sơ kết nối"
    title_en = "Onboarding request not found"

    def __init__(self, request_id: int) -> None:
        super().__init__(f"Không có hồ sơ kết nối số {request_id}.", f"No onboarding request {request_id}.")


class FocalPointNotFound(NotFound):
    code = "focal_point_not_found"
    title_vi = "Không tìm thấy cán bộ đầu mối"
    title_en = "Focal point not found"

    def __init__(self, organisation: str, focal_point_id: int) -> None:
        super().__init__(f"Cơ quan, tổ chức {organisation} không có cán bộ đầu mối số {focal_point_id}.",
                         f"Organisation {organisation} has no focal point {focal_point_id}.")


class FocalPointWithdrawn(Conflict):
    code = "focal_point_withdrawn"
    title_vi = "Cán bộ đầu mối đã thôi làm đầu mối"
    title_en = "Focal point already withdrawn"

    def __init__(self, focal_point_id: int, name: str) -> None:
        super().__init__(f"Cán bộ đầu mối số {focal_point_id} ({name}) đã thôi làm đầu mối; không thể thay đổi.",
                         f"Focal point {focal_point_id} ({name}) has been withdrawn; it cannot change any more.",
                         focal_point_id=focal_point_id)


class FocalPointExists(Conflict):
    code = "focal_point_exists"
    title_vi = "Cán bộ đầu mối đã có"
    title_en = "Focal point already named"

    def __init__(self, organisation: str, email: str, focal_point_id: int) -> None:
        super().__init__(
            f"Cơ quan, tổ chức {organisation} đã có cán bộ đầu mối với thư điện tử {email} (số {focal_point_id}).",
            f"Organisation {organisation} already has a focal point with e-mail {email} ({focal_point_id}).",
            focal_point_id=focal_point_id)


class FocalPointRequired(Conflict):
    """The change would leave an organisation the public directory lists with no published focal point."""

    code = "focal_point_required"
    title_vi = "Phải còn ít nhất một cán bộ đầu mối"
    title_en = "At least one focal point is required"

    def __init__(self, organisation: str, systems: list[str]) -> None:
        listed = ", ".join(systems)
        super().__init__(
            f"Cơ quan, tổ chức {organisation} đang có hệ thống kết nối ({listed}) nên phải luôn có ít nhất một cán bộ "
            "đầu mối được công bố; hãy cử người thay trước, rồi mới cho người này thôi làm đầu mối.",
            f"Organisation {organisation} has connected systems ({listed}), so it must always have at least one "
            "published focal point: add the replacement first, then withdraw this one.",
            organisation=organisation, systems=systems)


class SystemExists(Conflict):
    code = "system_exists"
    title_vi = "Hệ thống đã được đăng ký"
    title_en = "System already registered"

    def __init__(self, identifier: str) -> None:
        super().__init__(f"Hệ thống {identifier} đã được đăng ký.", f"System {identifier} is already registered.")


class StepOutOfOrder(Conflict):
    code = "onboarding_step_out_of_order"
    title_vi = "Sai thứ tự bước kết nối"
    title_en = "Onboarding step out of order"

    def __init__(self, given: int, expected: int | None) -> None:
        if expected is None:
            vi, en = "Hồ sơ đã kết thúc; không còn bước nào.", "The request is closed; no step remains."
        else:
            vi = f"Bước tiếp theo là bước {expected}, không phải bước {given}."
            en = f"The next step is step {expected}, not step {given}."
        super().__init__(vi, en, expected_step=expected, given_step=given)


class StepInvalid(DancuError):
    code = "onboarding_step_invalid"
    status = 422
    title_vi = "Bước kết nối chưa đủ điều kiện"
    title_en = "Onboarding step does not meet its conditions"

    def __init__(self, step: int, rule: str, detail_vi: str, detail_en: str, **extra: Any) -> None:
        super().__init__(detail_vi, detail_en, step=step, rule=rule, **extra)


class InvalidStatusChange(Conflict):
    code = "invalid_status_change"
    title_vi = "Không thể chuyển trạng thái"
    title_en = "Invalid status change"

    def __init__(self, identifier: str, status: str, action: str) -> None:
        super().__init__(
            f"Hệ thống {identifier} đang ở trạng thái {status}; không thể {action}.",
            f"System {identifier} is {status}; cannot {action}.",
            status_now=status,
        )


class CredentialNotFound(NotFound):
    code = "credential_not_found"
    title_vi = "Không tìm thấy khóa"
    title_en = "Credential not found"

    def __init__(self, kid: str) -> None:
        super().__init__(f"Không có khóa {kid}.", f"No credential {kid}.")


class CredentialExists(Conflict):
    code = "credential_exists"
    title_vi = "Khóa đã tồn tại"
    title_en = "Credential already exists"

    def __init__(self, kid: str) -> None:
        super().__init__(f"Khóa {kid} đã được đăng ký.", f"Credential {kid} is already registered.")


class InvalidKey(DancuError):
    code = "invalid_key"
    status = 422
    title_vi = "Khóa công khai không hợp lệ"
    title_en = "Invalid public key"


class Unauthenticated(DancuError):
    """The bearer token is missing, malformed, expired or no longer backed by a live credential."""

    code = "invalid_token"
    status = 401
    title_vi = "Chưa xác thực"
    title_en = "Not authenticated"


class CredentialRevoked(Unauthenticated):
    code = "credential_revoked"
    title_vi = "Khóa đã bị thu hồi"
    title_en = "Credential revoked"


class SystemSuspended(DancuError):
    code = "system_suspended"
    status = 403
    title_vi = "Hệ thống đang bị tạm ngừng kết nối"
    title_en = "System suspended"


class SystemTerminated(DancuError):
    code = "system_terminated"
    status = 403
    title_vi = "Kết nối của hệ thống đã bị chấm dứt"
    title_en = "System terminated"


class SystemNotLive(DancuError):
    code = "system_not_live"
    status = 403
    title_vi = "Hệ thống chưa được phép dùng loại khóa này"
    title_en = "System not live for this credential kind"
