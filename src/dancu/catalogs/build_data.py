"""One-off generator of the larger data files; not used at run time (see data/SOURCES.md).

``python -m dancu.catalogs.build_data REFERENCE_DIR [VIETNAM_PROVINCES_PATH [VIETNAMADMINUNITS_PATH]]``
rewrites ethnic_group*.csv, religion.csv, province*.csv from the project's reference CSVs, country.csv from
``pycountry`` (iso-codes, with its Vietnamese gettext catalogue), communes_2025.csv from the data file of the
``vietnam-provinces`` package (names, kinds, provinces) with the official codes of the ``vietnamadminunits``
package, and communes_pre2025.csv from the data files of ``vietnamadminunits`` (pass ``-`` for
VIETNAM_PROVINCES_PATH to keep communes_2025.csv's names; its codes are still corrected).  None of these
packages is a dependency of dancu: install or unpack them beside it only to regenerate.  Then run
``python -m dancu.catalogs.build_mapping``.
"""

from __future__ import annotations

import csv
import gettext
import json
import sqlite3
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dancu.catalogs import names
from dancu.catalogs.build_mapping import DATA_DIR, place_key, read_rows
from dancu.kit.text import clean, fold

HEADER = ("code", "name_vi", "name_en", "parent_code", "valid_from", "valid_to", "attrs")
PROVINCES_63_FROM = "2008-08-01"  # Hà Tây merged into Hà Nội: the list of 63 from then on
_NEW_PREFIXES = ("Thành phố ", "Tỉnh ")
_OLD_NAME_ALIASES = {"TP.HCM": "Hồ Chí Minh", "Huế": "Thừa Thiên Huế"}


def row(
    code: str,
    name_vi: str,
    name_en: str = "",
    parent: str = "",
    valid_from: str = "",
    valid_to: str = "",
    attrs: dict[str, Any] | None = None,
) -> tuple[str, ...]:
    payload = json.dumps(attrs, ensure_ascii=False, sort_keys=True) if attrs else ""
    return (code, clean(name_vi), name_en, parent, valid_from, valid_to, payload)


def write(catalog: str, rows: Iterable[tuple[str, ...]]) -> None:
    with (DATA_DIR / names.catalog_file(catalog)).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)


def ascii_name(name: str) -> str:
    return " ".join(part.capitalize() if part != "-" else part for part in fold(name).split(" "))


def ethnic(ref: Path) -> None:
    write(
        names.ETHNIC_GROUP,
        (
            row(r["ma"], r["ten_dan_toc"], attrs={"verification": r["verification"]})
            for r in read_rows(ref / "ethnic_groups_qd1019_2008.csv")
        ),
    )
    write(
        names.ETHNIC_GROUP_1979,
        (
            row(
                r["ma"],
                r["ten_dan_toc"],
                attrs={"other_names": [n.strip() for n in r["ten_goi_khac"].split(",") if n.strip()]},
            )
            for r in read_rows(ref / "ethnic_groups_qd121_1979.csv")
        ),
    )


def religion(ref: Path) -> None:
    rows = [row("00", "Không", "None (no religion)")]
    for r in read_rows(ref / "religions_qcvn109_phuluc_g.csv"):
        rows.append(row(r["ma"], r["ten_ton_giao"], attrs={"note": r["ghi_chu"]} if r["ghi_chu"] else None))
    write(names.RELIGION, rows)


def provinces(ref: Path) -> None:
    write(
        names.PROVINCE_63,
        (
            row(
                r["ma_tinh_cccd"][1:],
                r["ten_don_vi_hanh_chinh"],
                ascii_name(r["ten_don_vi_hanh_chinh"]),
                valid_from=PROVINCES_63_FROM,
                valid_to=names.MERGER_2025.isoformat(),
                attrs={"id_code": r["ma_tinh_cccd"]},
            )
            for r in read_rows(ref / "province_codes_cccd_63.csv")
        ),
    )
    write(names.PROVINCE, (_province_row(r) for r in read_rows(ref / "provinces_34_qd19_2025.csv")))


def _province_row(r: dict[str, str]) -> tuple[str, ...]:
    short = r["ten"]
    for prefix in _NEW_PREFIXES:
        short = short.removeprefix(prefix)
    merged = [short] if r["hop_nhat_tu_63_tinh_cu"] == "giữ nguyên" else r["hop_nhat_tu_63_tinh_cu"].split(" + ")
    merged = [_OLD_NAME_ALIASES.get(n.strip(), n.strip()) for n in merged]
    kind = "thành phố trực thuộc trung ương" if r["loai"].startswith("Thành phố") else "tỉnh"
    return row(
        r["ma_tinh"],
        r["ten"],
        ascii_name(short),
        valid_from=names.MERGER_2025.isoformat(),
        attrs={"kind": kind, "merged_from": merged},
    )


def countries() -> None:
    import pycountry

    vi = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["vi"])
    write(
        names.COUNTRY,
        (
            row(
                c.alpha_2,
                vi.gettext(c.name),
                getattr(c, "common_name", c.name),
                attrs={"alpha_3": c.alpha_3, "numeric": c.numeric, "iso_name": c.name},
            )
            for c in sorted(pycountry.countries, key=lambda c: c.alpha_2)
        ),
    )


def communes(package_dir: Path) -> None:
    nested = json.loads((package_dir / "data" / "nested-divisions.json").read_text(encoding="utf-8"))
    rows = [
        row(
            f"{w['code']:05d}",
            w["name"],
            parent=f"{p['code']:02d}",
            valid_from=names.MERGER_2025.isoformat(),
            attrs={"kind": w["division_type"]},
        )
        for p in nested
        for w in p["wards"]
    ]
    write(names.COMMUNE, sorted(rows))


_CODES = "SELECT provinceCode, ward, wardCode FROM admin_units"


def commune_codes(package_dir: Path) -> int:
    """Give communes_2025.csv the NSO's official codes; return how many codes changed.

    ``vietnam-provinces`` 2025.10.1, which communes_2025.csv was taken from, carries the NSO's *draft* codes.
    The official code of each commune is read from ``vietnamadminunits``' ``data/dataset.db`` (table
    ``admin_units``), matched by province and :func:`place_key`; names, kinds and provinces stay as they are.
    Raises unless the two lists hold the same communes one to one and the new codes are distinct 5-digit codes.
    """
    with sqlite3.connect(f"file:{package_dir / 'data' / 'dataset.db'}?mode=ro", uri=True) as db:
        official: dict[tuple[str, str], str] = {}
        for province, name, code in db.execute(_CODES):
            key = (province, place_key(name))
            if key in official:
                raise ValueError(f"vietnamadminunits names {name!r} twice in province {province}")
            official[key] = code
    communes = read_rows(DATA_DIR / names.catalog_file(names.COMMUNE))
    recoded = []
    for r in communes:
        code = official.pop((r["parent_code"], place_key(r["name_vi"])), None)
        if code is None:
            raise ValueError(f"commune {r['code']} {r['name_vi']!r} ({r['parent_code']}) is not in vietnamadminunits")
        recoded.append({**r, "code": code})
    if official:
        raise ValueError(f"communes of vietnamadminunits not in communes_2025.csv: {sorted(official)}")
    codes = [r["code"] for r in recoded]
    if len(set(codes)) != len(codes) or not all(len(c) == 5 and c.isdigit() for c in codes):
        raise ValueError("the official commune codes are not distinct 5-digit codes")
    write(names.COMMUNE, sorted(tuple(r[h] for h in HEADER) for r in recoded))
    return sum(old["code"] != new["code"] for old, new in zip(communes, recoded, strict=True))


_LEGACY = """SELECT wardCode, ward, wardType, provinceCode, districtCode, district,
                     provinceKey || '_' || districtKey || '_' || wardKey
              FROM admin_units_legacy WHERE wardCode IS NOT NULL ORDER BY wardCode"""
_CURRENT = "SELECT provinceKey, wardKey, provinceCode, ward FROM admin_units"


def communes_pre2025(package_dir: Path) -> None:
    """communes_pre2025.csv: the communes in force until 2025-06-30, each with the 2025 communes it became.

    From ``vietnamadminunits``' ``data/dataset.db`` (table ``admin_units_legacy``: the 63-province units with the
    GSO codes; its five island districts without communes are left out) and ``data/converter_2025.json``
    (``DICT_PROVINCE_WARD_NO_DIVIDED``: new commune → the old ones it took whole; ``DICT_PROVINCE_WARD_DIVIDED``:
    old commune → the new ones it was divided between, one flagged ``isDefaultNewWard``).  The new communes are
    named as communes_2025.csv names them (matched by province and :func:`place_key`), never by the package's
    own codes, so ``build_mapping`` can join them to whatever codes communes_2025.csv holds.
    """
    with sqlite3.connect(f"file:{package_dir / 'data' / 'dataset.db'}?mode=ro", uri=True) as db:
        legacy = db.execute(_LEGACY).fetchall()
        current = {(p, w): (code, name) for p, w, code, name in db.execute(_CURRENT)}
    converter = json.loads((package_dir / "data" / "converter_2025.json").read_text(encoding="utf-8"))
    became, main = _successors(converter, _our_names(current))
    rows = []
    for code, name, kind, province, district_code, district, key in legacy:
        targets = became.get(key, [])
        if len(targets) != 1 and key not in main:
            raise ValueError(f"old commune {code} {name!r}: unclear successors {targets}")
        attrs: dict[str, Any] = {"kind": kind.lower(), "district": clean(district), "district_code": district_code}
        if key in main:
            first = main[key]
            attrs |= {"became": [first, *sorted(set(targets) - {first})], "divided": True, "main": first}
        else:
            attrs["became"] = targets
        rows.append(row(code, name, parent=province, valid_to=names.MERGER_2025.isoformat(), attrs=attrs))
    write(names.COMMUNE_63, rows)


def _our_names(current: dict[tuple[str, str], tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The package's (province key, ward key) of each new commune → its name in communes_2025.csv."""
    ours = {(r["parent_code"], place_key(r["name_vi"])): r["name_vi"]
            for r in read_rows(DATA_DIR / names.catalog_file(names.COMMUNE))}
    found = {}
    for key, (province, name) in current.items():
        if (province, place_key(name)) not in ours:
            raise ValueError(f"new commune {name!r} ({province}) is not in communes_2025.csv")
        found[key] = ours[(province, place_key(name))]
    return found


def _successors(
    converter: dict[str, Any], new_names: dict[tuple[str, str], str]
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """(old key → the names of the new communes it went to, old key → the main part of a divided one)."""
    became: dict[str, list[str]] = {}
    main: dict[str, str] = {}
    for province_key, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for ward_key, olds in wards.items():
            for old in olds:
                became.setdefault(old, []).append(new_names[(province_key, ward_key)])
    for province_key, olds in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old, targets in olds.items():
            if old in became:
                raise ValueError(f"old commune {old} is both whole and divided")
            for target in targets:
                name = new_names[(province_key, target["newWardKey"])]
                became.setdefault(old, []).append(name)
                if target["isDefaultNewWard"]:
                    main[old] = name
            if old not in main:
                raise ValueError(f"divided old commune {old} has no main part")
    return became, main


def main(argv: list[str]) -> None:
    if len(argv) == 2 and argv[1] != "-":  # vietnam-provinces alone would bring back its draft codes
        raise SystemExit("communes_2025.csv needs VIETNAMADMINUNITS_PATH too: the official codes come from it")
    ref = Path(argv[0])
    ethnic(ref)
    religion(ref)
    provinces(ref)
    countries()
    if len(argv) > 1 and argv[1] != "-":
        communes(Path(argv[1]))
    if len(argv) > 2:
        print(f"communes_2025.csv: {commune_codes(Path(argv[2]))} codes corrected")
        communes_pre2025(Path(argv[2]))


if __name__ == "__main__":
    main(sys.argv[1:])
