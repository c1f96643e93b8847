"""Errors of operator authentication and accounts, each with a stable code, its status and vi+en titles."""

from __future__ import annotations

from typing import ClassVar

from dancu.errors import Conflict, DancuError, NotFound


class OperatorUnauthenticated(DancuError):
    """No operator token, or one that is malformed, unknown, expired, revoked, or whose operator is disabled.

    One code for all of them on purpose: the caller learns only that the token does not work, never whether a
    guessed token exists.  The reason is logged on the server (without the token)."""

    code = "operator_unauthenticated"
    status = 401
    title_vi = "Chưa xác thực cán bộ"
    title_en = "Operator not authenticated"
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Bearer realm="dancu-operators"'}

    def __init__(self) -> None:
        super().__init__(
            "Cần mã truy cập của cán bộ còn hiệu lực (Authorization: Bearer dco_…).",
            "A valid operator token is required (Authorization: Bearer dco_…).",
        )


class RoleRequired(DancuError):
    code = "operator_role_required"
    status = 403
    title_vi = "Cán bộ không có vai trò cần thiết"
    title_en = "Operator lacks the required role"

    def __init__(self, username: str, roles: list[str]) -> None:
        needed = " hoặc ".join(roles)
        super().__init__(f"Tài khoản {username} cần vai trò {needed} để thực hiện thao tác này.",
                         f"Account {username} needs the role {' or '.join(roles)} for this operation.",
                         required_roles=roles)


class OperatorNotFound(NotFound):
    code = "operator_not_found"
    title_vi = "Không tìm thấy tài khoản cán bộ"
    title_en = "Operator not found"

    def __init__(self, username: str) -> None:
        super().__init__(f"Không có tài khoản cán bộ {username}.", f"No operator account {username}.")


class OperatorExists(Conflict):
    code = "operator_exists"
    title_vi = "Tài khoản cán bộ đã tồn tại"
    title_en = "Operator already exists"

    def __init__(self, username: str) -> None:
        super().__init__(f"Tài khoản {username} đã tồn tại.", f"Account {username} already exists.")


class OperatorDisabled(Conflict):
    code = "operator_disabled"
    title_vi = "Tài khoản cán bộ đã bị vô hiệu hóa"
    title_en = "Operator disabled"

    def __init__(self, username: str) -> None:
        super().__init__(f"Tài khoản {username} đã bị vô hiệu hóa; không cấp mã mới.",
                         f"Account {username} is disabled; no new token is issued.")


class TokenNotFound(NotFound):
    code = "operator_token_not_found"
    title_vi = "Không tìm thấy mã truy cập"
    title_en = "Token not found"

    def __init__(self, token_id: int) -> None:
        super().__init__(f"Không có mã truy cập số {token_id}.", f"No token {token_id}.")


class SelfLockout(Conflict):
    code = "operator_self_lockout"
    title_vi = "Không thể tự khóa tài khoản của mình"
    title_en = "Cannot lock yourself out"

    def __init__(self) -> None:
        super().__init__("Không thể tự vô hiệu hóa hoặc tự bỏ vai trò quản trị của mình qua API.",
                         "You cannot disable your own account or drop your own admin role over the API.")
