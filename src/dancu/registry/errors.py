"""Errors of the registry, each with a stable code (integrators branch on it) and its HTTP status."""

from __future__ import annotations

from dancu.errors import Conflict, DancuError, NotFound


class ResidentNotFound(NotFound):
    code = "resident_not_found"
    title_vi = "Không tìm thấy công dân"
    title_en = "Resident not found"

    def __init__(self, personal_id: str) -> None:
        super().__init__(
            f"Không có công dân mang số định danh {personal_id}.",
            f"No resident holds personal ID number {personal_id}.",
        )


class ResidentNotFoundAtTime(NotFound):
    code = "resident_not_found_at_time"
    title_vi = "Chưa có hồ sơ tại thời điểm này"
    title_en = "No record at that time"

    def __init__(self, personal_id: str, as_of: str) -> None:
        super().__init__(
            f"Hồ sơ {personal_id} chưa được lập tại thời điểm {as_of}.",
            f"The record of {personal_id} did not exist yet at {as_of}.",
        )


class InvalidIdNumber(DancuError):
    code = "invalid_id_number"
    status = 422
    title_vi = "Số định danh cá nhân không hợp lệ"
    title_en = "Invalid personal ID number"


class PersonalIdTaken(Conflict):
    code = "personal_id_taken"
    title_vi = "Số định danh đã được sử dụng"
    title_en = "Personal ID number already taken"

    def __init__(self, personal_id: str) -> None:
        super().__init__(
            f"Số định danh cá nhân {personal_id} đã thuộc về người khác.",
            f"Personal ID number {personal_id} already belongs to someone else.",
        )


class ResidentDeceased(Conflict):
    code = "resident_deceased"
    title_vi = "Công dân đã chết hoặc mất tích"
    title_en = "Resident is dead or missing"

    def __init__(self, personal_id: str) -> None:
        super().__init__(
            f"Hồ sơ {personal_id} đã ghi nhận chết/mất tích; chỉ được đính chính thông tin chết/mất tích.",
            f"{personal_id} is recorded as dead or missing; only the death record itself may be corrected.",
        )


class StaleVersion(Conflict):
    code = "stale_version"
    title_vi = "Hồ sơ đã bị thay đổi"
    title_en = "Stale version"

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(
            f"Hồ sơ đang ở phiên bản {actual}, không phải {expected}; hãy đọc lại rồi sửa.",
            f"The record is at version {actual}, not {expected}; read it again, then correct.",
            current_version=actual,
        )


class SearchTooBroad(DancuError):
    code = "search_too_broad"
    status = 422
    title_vi = "Điều kiện tìm kiếm chưa đủ"
    title_en = "Search criteria too broad"


class NothingToChange(DancuError):
    code = "no_changes"
    status = 422
    title_vi = "Không có thay đổi"
    title_en = "Nothing to change"

    def __init__(self) -> None:
        super().__init__(
            "Yêu cầu không thay đổi trường nào của hồ sơ.", "The request changes no field of the record."
        )
