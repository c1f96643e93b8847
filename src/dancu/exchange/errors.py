"""Errors of the exchange API, each with a stable code and its HTTP status (see docs/integrators.md)."""

from __future__ import annotations

from typing import Any

from dancu.errors import DancuError, NotFound
from dancu.errors import PayloadTooLarge as PayloadTooLarge  # re-exported: every route's now (dancu.errors)


class PolicyDenied(DancuError):
    code = "policy_denied"
    status = 403
    title_vi = "Chính sách chia sẻ không cho phép"
    title_en = "Denied by the sharing policy"

    def __init__(self, denials: list[dict[str, str]]) -> None:
        first = denials[0] if denials else {"rule": "no_policy"}
        what = first.get("field") or first.get("value") or ""
        super().__init__(f"Bị từ chối theo quy tắc {first['rule']} {what}".strip() + ".",
                         f"Denied by rule {first['rule']} {what}".strip() + ".", denials=denials)


class PurposeRequired(DancuError):
    code = "purpose_required"
    status = 400
    title_vi = "Thiếu mục đích sử dụng"
    title_en = "Purpose required"

    def __init__(self) -> None:
        super().__init__("Mọi yêu cầu phải nêu mục đích sử dụng dữ liệu (purpose).",
                         "Every request must declare its purpose.")


class QuotaExceeded(DancuError):
    code = "quota_exceeded"
    status = 429
    title_vi = "Vượt hạn mức trong ngày"
    title_en = "Daily quota exceeded"

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(f"Đã dùng hết hạn mức {limit} yêu cầu trong ngày.",
                         f"The daily quota of {limit} requests is used up.", retry_after=retry_after)


class RateLimited(DancuError):
    code = "rate_limited"
    status = 429
    title_vi = "Vượt tốc độ cho phép"
    title_en = "Rate limit exceeded"

    def __init__(self, rate: int) -> None:
        super().__init__(f"Vượt quá {rate} yêu cầu mỗi giây.", f"More than {rate} requests per second.",
                         retry_after=1)


class XRoadClientInvalid(DancuError):
    code = "xroad_client_invalid"
    status = 400
    title_vi = "Tiêu đề X-Road-Client không hợp lệ"
    title_en = "Invalid X-Road-Client header"


class RelayNotAllowed(DancuError):
    code = "relay_not_allowed"
    status = 403
    title_vi = "Hệ thống không được phép chuyển tiếp"
    title_en = "Relaying not allowed"


class RelayedSystemNotAllowed(DancuError):
    code = "relayed_system_not_allowed"
    status = 403
    title_vi = "Hệ thống được chuyển tiếp không hợp lệ"
    title_en = "Relayed system not allowed"


class ResidentNotFound(NotFound):
    """Only retrieve answers this as an error; verify answers it as a result code in a 200 body."""

    code = "resident_not_found"
    title_vi = "Không tìm thấy công dân"
    title_en = "Resident not found"

    def __init__(self) -> None:
        super().__init__("Không có công dân mang số định danh này.", "No resident holds this personal ID number.")


class JobNotFound(NotFound):
    code = "job_not_found"
    title_vi = "Không tìm thấy tác vụ"
    title_en = "Job not found"

    def __init__(self, job_id: int) -> None:
        super().__init__(f"Không có tác vụ {job_id} của hệ thống này.", f"No job {job_id} of this system.")


class JobInputInvalid(DancuError):
    code = "job_input_invalid"
    status = 422
    title_vi = "Tệp đầu vào không hợp lệ"
    title_en = "Invalid job input"

    def __init__(self, line: int, reason: str, **extra: Any) -> None:
        super().__init__(f"Dòng {line}: {reason}", f"Line {line}: {reason}", line=line, **extra)


class UnsupportedJobMediaType(DancuError):
    code = "unsupported_media_type"
    status = 415
    title_vi = "Kiểu nội dung không được hỗ trợ"
    title_en = "Unsupported media type"

    def __init__(self) -> None:
        super().__init__("Gửi application/x-ndjson (JSON Lines) hoặc text/csv.",
                         "Send application/x-ndjson (JSON Lines) or text/csv.")


class XRoadServiceUnknown(NotFound):
    """``/r1/{instance}/{class}/{code}/{subsystem}/…`` naming a service provider other than this deployment."""

    code = "xroad_service_unknown"
    title_vi = "Không có dịch vụ X-Road này"
    title_en = "Unknown X-Road service provider"

    def __init__(self, named: str, provider: str) -> None:
        super().__init__(f"Đường dẫn /r1/ phải nêu hệ thống cung cấp dịch vụ {provider}; nhận được {named}.",
                         f"The /r1/ path must name the service provider {provider}; got {named}.",
                         provider=provider)


class TestCredentialsSandboxOnly(DancuError):
    """A call made with a test credential named someone outside the sandbox: refused whole, whoever it is — a real
    resident or nobody — so the refusal says nothing about the number."""

    __test__ = False  # not a pytest test class, whatever its name
    code = "test_credentials_sandbox_only"
    status = 403
    title_vi = "Khóa kiểm thử chỉ dùng với môi trường kiểm thử"
    title_en = "Test credentials reach only the sandbox"

    def __init__(self, where: str, positions: list[int]) -> None:
        shown = ", ".join(map(str, positions[:20])) + (" …" if len(positions) > 20 else "")
        vi_where = {"items": "mục", "lines": "dòng", "records": "bản ghi"}.get(where)
        super().__init__(
            "Khóa kiểm thử chỉ được dùng với công dân giả lập của môi trường kiểm thử (GET /exchange/v1/sandbox/"
            "residents)" + (f"; {vi_where}: {shown}" if vi_where else "") + ". Không có dữ liệu nào được cung cấp.",
            "Test credentials may only be used on the sandbox's synthetic residents (GET /exchange/v1/sandbox/"
            "residents)" + (f"; {where}: {shown}" if vi_where else "") + ". Nothing was disclosed.",
            **({where: positions[:100]} if vi_where else {}))


class TestCredentialsRequired(DancuError):
    __test__ = False
    code = "test_credentials_required"
    status = 403
    title_vi = "Cần khóa kiểm thử"
    title_en = "Test credentials required"

    def __init__(self) -> None:
        super().__init__("Danh sách công dân của môi trường kiểm thử chỉ dành cho khóa kiểm thử (bước 7).",
                         "The sandbox's residents are listed for test credentials (step 7) only.")


class DirectCallNotAllowed(DancuError):
    """A system whose connection model (step 4) is through NDXP or an LGSP platform called on its own."""

    code = "direct_call_not_allowed"
    status = 403
    title_vi = "Hệ thống phải kết nối qua nền tảng trung gian"
    title_en = "Direct call not allowed: connect through the platform"

    def __init__(self, system: str, platform: str, platform_status: str | None) -> None:
        state_vi = f" (nền tảng đang ở trạng thái {platform_status})" if platform_status else ""
        state_en = f" (the platform is {platform_status})" if platform_status else ""
        super().__init__(
            f"Hệ thống {system} kết nối qua nền tảng {platform} theo thiết kế đã duyệt (bước 4); không được gọi "
            f"trực tiếp{state_vi}.",
            f"System {system} connects through platform {platform} by its approved design (step 4); it may not "
            f"call directly{state_en}.", via_platform=platform, platform_status=platform_status)
