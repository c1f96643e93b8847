"""The Vietnamese reply texts (pure).  A refusal never says why: wrong number and unknown ID read the same."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dancu.citizen.clock import VIETNAM
from dancu.citizen.history import Access

FREE = "Miễn phí, chỉ tính cước viễn thông."
HELP = ("CSDL dân cư: DC <số định danh 12 số> xem thông tin của bạn; DC LS <số định danh> xem ai đã dùng "
        "dữ liệu của bạn; DC HD hướng dẫn. Gửi từ số điện thoại đã đăng ký. " + FREE)
MALFORMED = "Sai cú pháp. " + HELP
NEUTRAL = ("CSDL dân cư: không có thông tin trả lời cho yêu cầu này. Chỉ tra cứu được từ số điện thoại "
           "đã đăng ký của chính người có số định danh. Soạn DC HD để xem hướng dẫn.")
RATE_LIMITED = "CSDL dân cư: bạn đã gửi quá nhiều yêu cầu. Vui lòng thử lại sau ít phút."
RECORD_FIELDS = ("full_name", "date_of_birth", "sex", "permanent_province")


def date_vi(value: str | None) -> str:
    """``1985-04-12`` → ``12/04/1985``; partial dates keep what is known."""
    if not value:
        return "-"
    return "/".join(reversed(value.split("-")))


def record(state: Mapping[str, object], sex_name: str | None, province_name: str | None) -> str:
    return (f"CSDL dân cư: {state.get('full_name')}, sinh {date_vi(str(state.get('date_of_birth') or ''))}, "
            f"{sex_name or '-'}, thường trú {province_name or '-'}. {FREE}")


def history(accesses: Sequence[Access], shown: int = 3) -> str:
    if not accesses:
        return f"CSDL dân cư: chưa có cơ quan, tổ chức nào sử dụng dữ liệu của bạn. {FREE}"
    lines = [f"{a.recorded_at.astimezone(VIETNAM):%d/%m/%Y} {a.agency} ({a.purpose})"
             for a in accesses[:shown]]
    more = f" và {len(accesses) - shown} lần khác" if len(accesses) > shown else ""
    return (f"CSDL dân cư: dữ liệu của bạn được sử dụng {len(accesses)} lần gần đây: " + "; ".join(lines) +
            f"{more}. Xem đầy đủ trên Cổng dịch vụ công. {FREE}")
