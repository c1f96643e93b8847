"""Distributions the generator draws from: provinces, ethnic groups, religions, blood types, codes.

Provinces: the 63 pre-2025 provinces with their birth-registration (CCCD) codes (Thông tư 07/2016/TT-BCA,
Phụ lục 1), an approximate 2023 population in thousands (GSO estimates, rounded) and the code of the
province they merged into on 1 July 2025 (QĐ 19/2025/QĐ-TTg; merge column of
reference/provinces_34_qd19_2025.csv).  Ethnic and religion codes are QĐ 1019/QĐ-TCTK (2008) and
QCVN 109:2017 Phụ lục G; shares are the 2019 census figures, skewed by zone (H'Mông and Tày in the northern
mountains, Khmer in the Mekong delta, Gia-rai/Ê-đê/Ba-na in the Central Highlands).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from itertools import accumulate

from dancu.catalogs.loader import DATA_DIR as CATALOG_DATA_DIR


@dataclass(frozen=True)
class Province:
    code: str  # old 2-digit code; the personal-ID place code is "0" + code
    name: str
    population: int  # thousands
    new_code: str  # the 34-province code since 2025-07-01
    region: str  # north | central | south (name spellings)
    zone: str  # mountain | highlands | mekong | lowland (ethnic mix)


_ROWS = """
01 Hà Nội 8436 01 north lowland|02 Hà Giang 899 08 north mountain|04 Cao Bằng 543 04 north mountain
06 Bắc Kạn 324 19 north mountain|08 Tuyên Quang 805 08 north mountain|10 Lào Cai 770 15 north mountain
11 Điện Biên 640 11 north mountain|12 Lai Châu 482 12 north mountain|14 Sơn La 1300 14 north mountain
15 Yên Bái 850 15 north mountain|17 Hòa Bình 880 25 north mountain|19 Thái Nguyên 1340 19 north lowland
20 Lạng Sơn 800 20 north mountain|22 Quảng Ninh 1380 22 north lowland|24 Bắc Giang 1900 24 north lowland
25 Phú Thọ 1510 25 north lowland|26 Vĩnh Phúc 1200 25 north lowland|27 Bắc Ninh 1490 24 north lowland
30 Hải Dương 1950 31 north lowland|31 Hải Phòng 2100 31 north lowland|33 Hưng Yên 1290 33 north lowland
34 Thái Bình 1880 33 north lowland|35 Hà Nam 880 37 north lowland|36 Nam Định 1880 37 north lowland
37 Ninh Bình 1010 37 north lowland|38 Thanh Hóa 3720 38 north lowland|40 Nghệ An 3440 40 central lowland
42 Hà Tĩnh 1330 42 central lowland|44 Quảng Bình 910 44 central lowland|45 Quảng Trị 650 44 central lowland
46 Thừa Thiên Huế 1160 46 central lowland|48 Đà Nẵng 1240 48 central lowland
49 Quảng Nam 1520 48 central lowland|51 Quảng Ngãi 1250 51 central lowland|52 Bình Định 1500 52 central lowland
54 Phú Yên 880 66 central lowland|56 Khánh Hòa 1260 56 central lowland|58 Ninh Thuận 600 56 central lowland
60 Bình Thuận 1250 68 south lowland|62 Kon Tum 580 51 central highlands|64 Gia Lai 1590 52 central highlands
66 Đắk Lắk 1920 66 central highlands|67 Đắk Nông 680 68 central highlands|68 Lâm Đồng 1330 68 south highlands
70 Bình Phước 1030 75 south lowland|72 Tây Ninh 1190 80 south lowland|74 Bình Dương 2760 79 south lowland
75 Đồng Nai 3310 75 south lowland|77 Bà Rịa - Vũng Tàu 1190 79 south lowland|79 Hồ Chí Minh 9460 79 south lowland
80 Long An 1730 80 south lowland|82 Tiền Giang 1790 82 south mekong|83 Bến Tre 1300 86 south mekong
84 Trà Vinh 1020 86 south mekong|86 Vĩnh Long 1030 86 south mekong|87 Đồng Tháp 1600 82 south mekong
89 An Giang 1910 91 south mekong|91 Kiên Giang 1760 91 south mekong|92 Cần Thơ 1260 92 south mekong
93 Hậu Giang 730 92 south mekong|94 Sóc Trăng 1200 92 south mekong|95 Bạc Liêu 920 96 south mekong
96 Cà Mau 1210 96 south mekong
"""


def _parse(rows: str) -> tuple[Province, ...]:
    provinces = []
    for item in rows.replace("\n", "|").split("|"):
        if not item.strip():
            continue
        words = item.split()
        code, *name, population, new_code, region, zone = words
        provinces.append(Province(code, " ".join(name), int(population), new_code, region, zone))
    return tuple(provinces)


PROVINCES: tuple[Province, ...] = _parse(_ROWS)
PROVINCE_BY_CODE = {p.code: p for p in PROVINCES}
PROVINCE_CUM = tuple(accumulate(p.population for p in PROVINCES))
NEW_PROVINCE_NAMES = {
    "01": "Hà Nội", "04": "Cao Bằng", "08": "Tuyên Quang", "11": "Điện Biên", "12": "Lai Châu", "14": "Sơn La",
    "15": "Lào Cai", "19": "Thái Nguyên", "20": "Lạng Sơn", "22": "Quảng Ninh", "24": "Bắc Ninh",
    "25": "Phú Thọ", "31": "Hải Phòng", "33": "Hưng Yên", "37": "Ninh Bình", "38": "Thanh Hóa",
    "40": "Nghệ An", "42": "Hà Tĩnh", "44": "Quảng Trị", "46": "Huế", "48": "Đà Nẵng", "51": "Quảng Ngãi",
    "52": "Gia Lai", "56": "Khánh Hòa", "66": "Đắk Lắk", "68": "Lâm Đồng", "75": "Đồng Nai",
    "79": "Hồ Chí Minh", "80": "Tây Ninh", "82": "Đồng Tháp", "86": "Vĩnh Long", "91": "An Giang",
    "92": "Cần Thơ", "96": "Cà Mau",
}

# Ethnic shares (%) per zone; weighted by zone population these give roughly the census: Kinh ~85%,
# Tày ~1.9, Thái ~1.9, Mường ~1.5, H'Mông ~1.5, Khmer ~1.4, Nùng ~1.1, Dao ~0.9, Hoa ~0.8.
_ETHNIC_BY_ZONE: dict[str, tuple[tuple[str, float], ...]] = {
    "mountain": (("01", 30), ("02", 17), ("03", 17), ("04", 8), ("08", 13.5), ("07", 8), ("09", 6),
                 ("13", 1), ("26", 0.5), ("23", 0.5), ("33", 0.3)),
    "highlands": (("01", 66), ("10", 8), ("11", 6), ("12", 4), ("15", 3), ("16", 2.5), ("20", 2),
                  ("02", 2), ("07", 2), ("08", 1), ("03", 1), ("09", 1), ("04", 1), ("28", 0.5)),
    "mekong": (("01", 88.5), ("05", 10), ("06", 1), ("14", 0.5)),
    "lowland": (("01", 95.2), ("04", 1.6), ("03", 0.8), ("06", 0.9), ("14", 0.3), ("17", 0.4),
                ("02", 0.4), ("24", 0.2), ("25", 0.2)),
}
ETHNIC_TABLES = {zone: (tuple(c for c, _ in rows), tuple(accumulate(w for _, w in rows)))
                 for zone, rows in _ETHNIC_BY_ZONE.items()}

# "00" none ~86%, Catholic ~6%, Buddhist ~4.5%, Protestant ~1%, Hòa Hảo ~1% (Mekong), Cao Đài ~0.5%.
_RELIGION_BY_REGION = {
    "north": (("00", 88.5), ("02", 6.5), ("01", 4), ("08", 1)),
    "central": (("00", 88), ("02", 6), ("01", 4.5), ("08", 1.2), ("05", 0.3)),
    "south": (("00", 82.5), ("02", 5.5), ("01", 5), ("08", 0.9), ("03", 3.8), ("05", 1.5), ("04", 0.1)),
}
RELIGION_TABLES = {region: (tuple(c for c, _ in rows), tuple(accumulate(w for _, w in rows)))
                   for region, rows in _RELIGION_BY_REGION.items()}

BLOOD_TYPES = ("O+", "B+", "A+", "AB+", "O-", "B-", "A-", "AB-")
BLOOD_CUM = tuple(accumulate((41.6, 30.0, 21.0, 6.0, 0.4, 0.4, 0.4, 0.2)))

MOBILE_PREFIXES = ("032", "033", "034", "035", "036", "037", "038", "039", "056", "058", "070", "076",
                   "077", "078", "079", "081", "082", "083", "084", "085", "086", "088", "089", "090",
                   "091", "093", "094", "096", "097", "098")
EMAIL_DOMAINS = ("mail.example.vn", "thu.example.vn", "example.vn")
STREETS = ("Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Hai Bà Trưng", "Quang Trung", "Lý Thường Kiệt",
           "Nguyễn Huệ", "Hùng Vương", "Phan Đình Phùng", "Lê Duẩn", "Điện Biên Phủ", "Nguyễn Du",
           "Bà Triệu", "Võ Thị Sáu", "Ngô Quyền", "Trần Phú", "Hoàng Diệu", "Lê Thánh Tông", "Pasteur",
           "Cách Mạng Tháng Tám", "Nguyễn Văn Cừ", "Phạm Văn Đồng", "Tôn Đức Thắng", "Lạc Long Quân")
CARD_ISSUER = "Cục Cảnh sát QLHC về TTXH"

# Relation to the household head (catalogue relation_to_head; "00" is the head by the registry's rule).
HEAD, WIFE, HUSBAND, CHILD, FATHER, MOTHER = "00", "01", "02", "03", "06", "07"
SINGLE, MARRIED, DIVORCED, WIDOWED = "1", "2", "3", "4"
MALE, FEMALE = "1", "2"


# Communes (xã/phường) of each current province, from the packaged commune catalogue.
_COMMUNE_FILE = CATALOG_DATA_DIR / "communes_2025.csv"


def _communes_by_province() -> dict[str, tuple[tuple[str, str], ...]]:
    by_province: dict[str, list[tuple[str, str]]] = {}
    with _COMMUNE_FILE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if not row["valid_to"]:
                by_province.setdefault(row["parent_code"], []).append((row["code"], row["name_vi"]))
    return {province: tuple(communes) for province, communes in by_province.items()}


COMMUNES_BY_PROVINCE = _communes_by_province()
