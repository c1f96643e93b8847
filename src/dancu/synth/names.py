"""Vietnamese personal names: family names with their real frequencies, middle and given names by sex.

Family-name shares are the commonly cited national figures (Nguyễn ~38%, Trần ~11%, Lê ~9.5%, Phạm ~7%,
Hoàng/Huỳnh ~5%, Phan ~4.5%, Vũ/Võ ~3.9%, ...).  Hoàng and Vũ are the northern spellings, Huỳnh and Võ the
southern ones (the same names, split by the 1800s naming taboo); the centre uses both.  Ethnic minorities
with distinctive family names (Tày, Thái, H'Mông, Khmer, Hoa, Nùng) draw from their own short lists.
Given-name weights fall with rank (a Zipf-like curve), which is close to what name registries show.
"""

from __future__ import annotations

from itertools import accumulate

# (name, share in %) for the Kinh majority; the regional pair is resolved by region below.
_FAMILY_COMMON: tuple[tuple[str, float], ...] = (
    ("Nguyễn", 39.0), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.0), ("Phan", 4.5), ("Đặng", 2.1),
    ("Bùi", 2.0), ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3), ("Dương", 1.0), ("Lý", 0.5), ("Trương", 0.8),
    ("Đào", 0.6), ("Đinh", 0.6), ("Lâm", 0.4), ("Mai", 0.4), ("Cao", 0.3), ("Tạ", 0.2), ("Hà", 0.4),
    ("Lương", 0.3), ("Trịnh", 0.4), ("Đoàn", 0.4), ("Tô", 0.2), ("Châu", 0.2), ("Thái", 0.2),
    ("Kiều", 0.1), ("Văn", 0.1), ("La", 0.1), ("Triệu", 0.2), ("Hứa", 0.1), ("Lưu", 0.2), ("Tăng", 0.1),
    ("Quách", 0.1), ("Khúc", 0.05), ("Vương", 0.1), ("Từ", 0.1), ("Chu", 0.1), ("Nghiêm", 0.05),
    ("Phùng", 0.2), ("Tôn", 0.05), ("Thân", 0.1), ("Giang", 0.1), ("Mạc", 0.05), ("Lạc", 0.02),
)
_REGIONAL_PAIRS = {"north": (("Hoàng", 5.1), ("Vũ", 3.9)), "south": (("Huỳnh", 5.1), ("Võ", 3.9)),
                   "central": (("Hoàng", 2.2), ("Huỳnh", 2.9), ("Vũ", 1.2), ("Võ", 2.7))}
_FAMILY_BY_ETHNIC: dict[str, tuple[tuple[str, float], ...]] = {
    "02": (("Hoàng", 25), ("Nông", 20), ("Hà", 12), ("Triệu", 10), ("Lý", 8), ("Ma", 8), ("Nguyễn", 10)),
    "03": (("Lò", 25), ("Lường", 15), ("Cầm", 15), ("Quàng", 12), ("Vì", 10), ("Hà", 13), ("Tòng", 10)),
    "05": (("Thạch", 30), ("Sơn", 25), ("Danh", 20), ("Kim", 10), ("Lâm", 8), ("Trần", 7)),
    "06": (("Lý", 20), ("Trương", 18), ("Lâm", 16), ("Quách", 12), ("Mã", 10), ("Châu", 12), ("Hứa", 12)),
    "07": (("Hoàng", 30), ("Nông", 15), ("Lương", 15), ("Vi", 15), ("Lý", 10), ("Chu", 15)),
    "08": (("Giàng", 22), ("Sùng", 18), ("Vàng", 16), ("Thào", 14), ("Lý", 10), ("Hầu", 10), ("Mùa", 10)),
}

MIDDLE_MALE_OLD = (("Văn", 60), ("Hữu", 7), ("Đức", 7), ("Minh", 5), ("Quốc", 4), ("Xuân", 4), ("Đình", 4),
                   ("Công", 4), ("Thanh", 3), ("Ngọc", 2))
MIDDLE_MALE_YOUNG = (("Văn", 18), ("Minh", 14), ("Đức", 9), ("Gia", 9), ("Quốc", 7), ("Hoàng", 7),
                     ("Bảo", 7), ("Anh", 5), ("Hữu", 5), ("Thành", 4), ("Xuân", 3), ("Thanh", 4),
                     ("Trung", 3), ("Đăng", 3), ("Nhật", 2))
MIDDLE_FEMALE_OLD = (("Thị", 78), ("Ngọc", 5), ("Thu", 4), ("Kim", 4), ("Thanh", 4), ("Xuân", 3),
                     ("Hồng", 2))
MIDDLE_FEMALE_YOUNG = (("Thị", 25), ("Ngọc", 12), ("Thu", 8), ("Minh", 7), ("Bảo", 7), ("Khánh", 6),
                       ("Phương", 6), ("Thanh", 6), ("Kim", 5), ("Hoài", 4), ("Diệu", 3), ("Gia", 4),
                       ("Mai", 4), ("Quỳnh", 3))
YOUNG_FROM_YEAR = 1985

GIVEN_MALE = (
    "Anh", "Tuấn", "Hùng", "Dũng", "Minh", "Nam", "Hải", "Long", "Sơn", "Thắng", "Cường", "Quân", "Huy", "Đức",
    "Trung", "Phong", "Hiếu", "Khánh", "Hoàng", "Phúc", "Tâm", "Thành", "Bình", "Toàn", "Vinh", "Tùng", "Hưng",
    "Duy", "Lâm", "Khoa", "Kiên", "Lợi", "Tiến", "Trí", "Nghĩa", "Quang", "Hòa", "Phát", "Tài", "Thịnh", "Việt",
    "Bảo", "Đạt", "Hậu", "Hiền", "Hiệp", "Hoan", "Khải", "Khang", "Khôi", "Lực", "Mạnh", "Nhân", "Ninh", "Phú",
    "Quý", "Quyết", "Sang", "Tân", "Thái", "Thiện", "Thông", "Thuận", "Tín", "Trọng", "Trường", "Tú", "Tường",
    "Vũ", "Vương", "Xuân", "An", "Bắc", "Cảnh", "Chiến", "Công", "Danh", "Định", "Đông", "Giang", "Hà", "Hạnh",
    "Hào", "Hiển", "Hiệu", "Hoài", "Học", "Hợp", "Hữu", "Kha", "Kỳ", "Lộc", "Luân", "Mẫn", "Nguyên", "Nhật",
    "Phi", "Phước", "Quốc", "Sỹ", "Tạo", "Thạch", "Thanh", "Thảo", "Thiên", "Thịnh", "Thọ", "Triều", "Trực",
    "Tuyên", "Uy", "Vĩnh", "Vỹ", "Yên", "Đăng", "Khoa", "Lân", "Ân", "Bách", "Đại", "Hưởng", "Kiệt",
    "Lam", "Tùng", "Quyền", "Đoàn", "Chính", "Dương", "Hoàn", "Khiêm", "Sinh", "Sáng", "Tấn", "Thể", "Tuệ",
    "Tiệp", "Hiển", "Lượng", "Nhuận",
)
GIVEN_FEMALE = (
    "Linh", "Hương", "Trang", "Hà", "Lan", "Anh", "Hoa", "Thảo", "Huyền", "Phương", "Mai", "Ngọc", "Nga",
    "Hằng", "Thủy", "Yến", "Vân", "Hạnh", "Nhung", "Dung", "Thu", "Loan", "Oanh", "Quỳnh", "Trinh", "Uyên",
    "Vy", "Nhi", "Hiền", "Giang", "Hồng", "Liên", "Ly", "Nhàn", "Tâm", "Thanh", "Thơ", "Thư", "Trâm", "Tuyết",
    "Xuân", "Châu", "Diệp", "Duyên", "Hân", "Hậu", "Hoài", "Khánh", "Kiều", "Lành", "Liễu", "Lụa", "Mến",
    "Minh", "My", "Na", "Ngân", "Nguyệt", "Nhã", "Nhạn", "Nương", "Phượng", "Quyên", "Sen", "Tiên", "Trà",
    "Trúc", "Tú", "Vi", "Hảo", "Huệ", "Lệ", "Ly", "Mỹ", "Nhiên", "Phấn", "Sương", "Thắm", "Thoa", "Thúy",
    "Thương", "Tươi", "Vui", "An", "Bích", "Cúc", "Diễm", "Dịu", "Đào", "Gấm", "Hiên", "Hường", "Kim", "Lam",
    "Lụa", "Mận", "Ngà", "Nhài", "Nhu", "Phúc", "Quế", "Quý", "Sa", "Son", "Tám", "Thêu", "Thi", "Thìn",
    "Thoại", "Thục", "Trân", "Tuyền", "Vinh", "Xoan", "Yên", "Bình", "Chi", "Diệu", "Giao", "Hạ", "Hoàn",
    "Huyên", "Khuê", "Lài", "Lê", "Lộc", "Mơ", "Ngát", "Nhạn", "Oanh", "Phương", "Phụng", "Thùy", "Tiền",
    "Trang", "Tường", "Ý", "Ánh", "Ngọc", "Vàng",
)


def cumulative(pairs: tuple[tuple[str, float], ...]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Names and cumulative weights, ready for ``random.choices(names, cum_weights=...)``."""
    return tuple(n for n, _ in pairs), tuple(accumulate(w for _, w in pairs))


def ranked(names: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Names weighted 1/(rank+8): the first names are the common ones, the tail stays plausible."""
    unique = tuple(dict.fromkeys(names))
    return unique, tuple(accumulate(1.0 / (rank + 8) for rank in range(len(unique))))


def family_table(region: str, ethnic: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    if ethnic in _FAMILY_BY_ETHNIC:
        return cumulative(_FAMILY_BY_ETHNIC[ethnic])
    return cumulative(_FAMILY_COMMON + _REGIONAL_PAIRS[region])


FAMILY_TABLES = {(region, ethnic): family_table(region, ethnic)
                 for region in _REGIONAL_PAIRS for ethnic in (*_FAMILY_BY_ETHNIC, "01")}
MIDDLE_TABLES = {("1", False): cumulative(MIDDLE_MALE_OLD), ("1", True): cumulative(MIDDLE_MALE_YOUNG),
                 ("2", False): cumulative(MIDDLE_FEMALE_OLD), ("2", True): cumulative(MIDDLE_FEMALE_YOUNG)}
GIVEN_TABLES = {"1": ranked(GIVEN_MALE), "2": ranked(GIVEN_FEMALE)}


def family_names(region: str, ethnic: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    return FAMILY_TABLES.get((region, ethnic)) or FAMILY_TABLES[(region, "01")]
