"""Portal texts, Vietnamese first, English beside them; field labels of the record."""

from __future__ import annotations

from dancu.citizen.history import DATABASE_MANAGER_EN, DATABASE_MANAGER_VI, OFFICER_EN, OFFICER_VI

FIELD_LABELS: dict[str, tuple[str, str]] = {
    "personal_id": ("Số định danh cá nhân", "Personal ID number"), "full_name": ("Họ, chữ đệm và tên", "Full name"),
    "other_name": ("Tên gọi khác", "Other name"), "date_of_birth": ("Ngày, tháng, năm sinh", "Date of birth"),
    "sex": ("Giới tính", "Sex"), "birth_place": ("Nơi sinh", "Place of birth"),
    "birth_place_province": ("Tỉnh nơi sinh", "Province of birth"),
    "birth_registration_province": ("Tỉnh đăng ký khai sinh", "Birth registration province"),
    "birth_registration_commune": ("Xã đăng ký khai sinh", "Birth registration commune"),
    "birth_registration_place": ("Nơi đăng ký khai sinh", "Birth registration place"),
    "home_town": ("Quê quán", "Home town"), "home_town_province": ("Tỉnh quê quán", "Home-town province"),
    "ethnic_code": ("Dân tộc", "Ethnic group"), "religion_code": ("Tôn giáo", "Religion"),
    "nationality_code": ("Quốc tịch", "Nationality"), "blood_type": ("Nhóm máu", "Blood type"),
    "old_id_number": ("Số CMND cũ", "Old ID card number"), "id_cards": ("Thẻ căn cước", "Identity cards"),
    "relatives": ("Người thân", "Relatives"),
    "permanent_province": ("Thường trú — tỉnh", "Permanent residence — province"),
    "permanent_commune": ("Thường trú — xã", "Permanent residence — commune"),
    "permanent_address": ("Thường trú — địa chỉ", "Permanent residence — address"),
    "temporary_province": ("Tạm trú — tỉnh", "Temporary residence — province"),
    "temporary_commune": ("Tạm trú — xã", "Temporary residence — commune"),
    "temporary_address": ("Tạm trú — địa chỉ", "Temporary residence — address"),
    "current_province": ("Nơi ở hiện tại — tỉnh", "Current residence — province"),
    "current_commune": ("Nơi ở hiện tại — xã", "Current residence — commune"),
    "current_address": ("Nơi ở hiện tại — địa chỉ", "Current residence — address"),
    "temporary_absence": ("Tạm vắng", "Temporary absence"),
    "residence_file_number": ("Số hồ sơ cư trú", "Residence file number"),
    "marital_status": ("Tình trạng hôn nhân", "Marital status"), "household_id": ("Mã hộ", "Household"),
    "relation_to_head": ("Quan hệ với chủ hộ", "Relation to household head"),
    "death_kind": ("Tình trạng (chết/mất tích)", "Death or missing"), "death_date": ("Ngày mất", "Date of death"),
    "phone": ("Số điện thoại", "Phone"), "email": ("Thư điện tử", "Email"), "sector_ids": ("Mã ngành", "Sector IDs"),
    # what an operator's read of the record disclosed besides its fields (dancu.registry.disclosure)
    "household": ("Hộ gia đình và các thành viên", "Household and its members"),
    "history": ("Lịch sử thay đổi thông tin", "History of changes"),
}

TEXTS: dict[str, tuple[str, str]] = {
    "portal": ("Cổng tra cứu thông tin dân cư", "Citizen information portal"),
    "skip": ("Bỏ qua, đến nội dung chính", "Skip to main content"),
    "login": ("Đăng nhập", "Log in"), "logout": ("Đăng xuất", "Log out"),
    "register": ("Đăng ký tài khoản", "Register an account"), "recover": ("Khôi phục tài khoản", "Recover account"),
    "personal_id": ("Số định danh cá nhân (12 số)", "Personal ID number (12 digits)"),
    "full_name": ("Họ và tên", "Full name"), "date_of_birth": ("Ngày sinh", "Date of birth"),
    "phone": ("Số điện thoại đã đăng ký", "Registered phone number"),
    "password": ("Mật khẩu", "Password"), "confirm": ("Nhập lại mật khẩu", "Repeat the password"),
    "code": ("Mã xác thực (6 số)", "One-time code (6 digits)"),
    "code_sent": ("Chúng tôi đã gửi mã xác thực qua SMS đến số điện thoại đã đăng ký. Mã có hiệu lực 5 phút.",
                  "We sent a one-time code by SMS to the registered phone number. It is valid for 5 minutes."),
    "continue": ("Tiếp tục", "Continue"), "set_password": ("Đặt mật khẩu", "Set password"),
    "password_rule": ("Ít nhất 10 ký tự.", "At least 10 characters."),
    "my_record": ("Thông tin của tôi", "My record"), "history": ("Ai đã dùng dữ liệu của tôi", "Who used my data"),
    "field": ("Trường thông tin", "Field"), "value": ("Giá trị", "Value"), "source": ("Nguồn", "Source"),
    "updated": ("Cập nhật", "Updated"), "household": ("Hộ gia đình", "Household"),
    "relation": ("Quan hệ với chủ hộ", "Relation to head"),
    "download_json": ("Tải về (JSON)", "Download (JSON)"), "download_pdf": ("Tải về (PDF)", "Download (PDF)"),
    "correct": ("Yêu cầu điều chỉnh thông tin", "Request a correction"),
    "new_value": ("Giá trị đúng", "Correct value"), "reason": ("Lý do", "Reason"), "send": ("Gửi", "Send"),
    "corrections": ("Yêu cầu điều chỉnh đã gửi", "Correction requests sent"),
    "status": ("Trạng thái", "Status"), "answer": ("Trả lời", "Answer"),
    "when": ("Thời gian", "When"), "agency": ("Cơ quan, tổ chức", "Agency"), "purpose": ("Mục đích", "Purpose"),
    "database_manager": (DATABASE_MANAGER_VI, DATABASE_MANAGER_EN), "officer": (OFFICER_VI, OFFICER_EN),
    "fields": ("Thông tin được dùng", "Fields used"), "result": ("Kết quả", "Result"),
    "no_history": ("Chưa có cơ quan, tổ chức nào sử dụng dữ liệu của bạn.", "Nobody has used your data yet."),
    "free": ("Tra cứu miễn phí.", "Looking up your own data is free."),
    "mismatch": ("Thông tin không khớp với dữ liệu dân cư hoặc tài khoản đã tồn tại.",
                 "The details do not match the population database, or the account already exists."),
    "bad_login": ("Số định danh hoặc mật khẩu không đúng.", "Wrong ID number or password."),
    "locked": ("Tạm khóa do đăng nhập sai nhiều lần. Thử lại sau {seconds} giây.",
               "Locked after failed logins. Try again in {seconds} seconds."),
    "bad_code": ("Mã xác thực không đúng hoặc đã hết hạn.", "Wrong or expired code."),
    "too_many_codes": ("Đã gửi quá nhiều mã xác thực đến số điện thoại này. Vui lòng thử lại sau ít phút.",
                       "Too many codes were sent to this phone number. Please try again in a few minutes."),
    "weak_password": ("Mật khẩu phải có ít nhất 10 ký tự và hai lần nhập phải giống nhau.",
                      "The password needs 10+ characters and both entries must match."),
    "recover_sent": ("Nếu thông tin khớp, mã xác thực đã được gửi đến số điện thoại đã đăng ký.",
                     "If the details match, a code was sent to the registered phone."),
    "correction_sent": ("Đã gửi yêu cầu điều chỉnh.", "Correction request sent."),
    "csrf": ("Phiên làm việc đã hết hạn; vui lòng thử lại.", "Your session expired; please try again."),
    "unavailable_title": ("Tạm thời chưa xem được thông tin", "Temporarily unavailable"),
    "unavailable": ("Hệ thống chưa ghi được nhật ký truy cập dữ liệu, nên chưa thể hiển thị thông tin của bạn. "
                    "Vui lòng thử lại sau ít phút.",
                    "The data-access log could not be written, so your information cannot be shown. Please try "
                    "again in a few minutes."),
    "home": ("Về trang chủ", "Back to the home page"),
    "eid_heading": ("Tài khoản định danh điện tử", "Electronic identification account"),
    "eid_explain": ("Mức 1: xem thông tin nhận dạng cơ bản. Mức 2: xem toàn bộ thông tin, tải về, lịch sử sử dụng "
                    "dữ liệu và yêu cầu điều chỉnh.",
                    "Level 1: basic identity only. Level 2: the whole record, downloads, who used my data and "
                    "correction requests."),
    "eid_login": ("Đăng nhập bằng VNeID", "Log in with VNeID"),
    "eid_failed": ("Không hoàn tất được đăng nhập bằng tài khoản định danh điện tử. Vui lòng thử lại.",
                   "The e-identification login could not be completed. Please try again."),
    "eid_cancelled": ("Đăng nhập bằng tài khoản định danh điện tử đã bị hủy.",
                      "The e-identification login was cancelled."),
    "eid_unavailable": ("Hệ thống định danh điện tử tạm thời không phản hồi. Vui lòng thử lại sau.",
                        "The electronic identification system is not answering. Please try again later."),
    "eid_unknown_title": ("Không tìm thấy thông tin dân cư", "No population record found"),
    "eid_unknown": ("Tài khoản định danh điện tử của bạn đã được xác thực, nhưng số định danh cá nhân của tài khoản "
                    "không có trong Cơ sở dữ liệu quốc gia về dân cư, nên không có thông tin nào để hiển thị. "
                    "Vui lòng liên hệ Công an cấp xã nơi cư trú.",
                    "Your e-identification account was verified, but its personal ID number is not in the "
                    "national population database, so there is nothing to show. Please contact the commune "
                    "police where you live."),
    "basic_identity": ("Thông tin nhận dạng cơ bản", "Basic identity"),
    "level1_notice": ("Bạn đăng nhập bằng tài khoản định danh điện tử mức 1: chỉ xem được thông tin nhận dạng cơ bản. "
                      "Để xem toàn bộ thông tin, tải về, xem ai đã dùng dữ liệu hoặc yêu cầu điều chỉnh, hãy đăng "
                      "nhập bằng tài khoản mức 2 hoặc tài khoản của Cổng.",
                      "You signed in with a level 1 e-identification account: basic identity only. To see the "
                      "whole record, download it, see who used your data or request a correction, sign in with a "
                      "level 2 account or a portal account."),
    "level_needed_title": ("Cần tài khoản định danh điện tử mức 2", "Level 2 e-identification needed"),
    "level_needed": ("Chức năng này chỉ dành cho tài khoản định danh điện tử mức 2 hoặc tài khoản của Cổng.",
                     "This needs a level 2 e-identification account or a portal account."),
}


# Results of exchange-log entries as "who used my data" shows them (other values are shown as they are).
RESULT_LABELS: dict[str, tuple[str, str]] = {
    "ok": ("Đã trả lời", "Answered"), "answered": ("Đã trả lời", "Answered"),
    "accepted": ("Đã tiếp nhận", "Accepted"), "denied": ("Bị từ chối", "Refused"),
    "refused": ("Bị từ chối", "Refused"),
}
# Statuses of correction requests.
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "open": ("Đang xử lý", "Being handled"), "accepted": ("Đã chấp nhận", "Accepted"),
    "rejected": ("Không chấp nhận", "Rejected"),
}


def _pick(table: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    pair = table.get(key, (key, key))
    return pair[1] if lang == "en" else pair[0]


def result_label(result: str, lang: str) -> str:
    return _pick(RESULT_LABELS, result, lang)


def status_label(status: str, lang: str) -> str:
    return _pick(STATUS_LABELS, status, lang)


def translator(lang: str) -> dict[str, str]:
    index = 1 if lang == "en" else 0
    return {key: pair[index] for key, pair in TEXTS.items()}


def field_label(field: str, lang: str) -> str:
    return _pick(FIELD_LABELS, field, lang)
