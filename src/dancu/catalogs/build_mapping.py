"""Derive the shipped mapping files from the shipped catalogue files.

Run ``python -m dancu.catalogs.build_mapping`` after changing ``ethnic_group*.csv`` or ``province*.csv``;
the tests check that the committed mapping files equal what this module computes.

* ``ethnic_group_1979->ethnic_group``: the 1979 list (QĐ 121-TCTK/PPCĐ) and the 2008 list (QĐ 1019/QĐ-TCTK)
  name the same 54 groups in a different order and with slightly different spelling.  Names are matched
  after :func:`dancu.kit.text.fold`, with hyphens, apostrophes and spaces removed and parenthesised
  alternative names tried too; :data:`ETHNIC_OVERRIDES` covers pairs no rule can match.  Codes 55
  (foreigner) and 99 (unknown) have no 2008 counterpart and are left unmapped on purpose.
* ``province_63->province``: each of the 63 provinces before 1 July 2025 to the one of 34 it merged into,
  from the ``merged_from`` attribute of each new province (QĐ 19/2025/QĐ-TTg, NQ 202/2025/QH15).
* ``commune_63->commune``: each of the 10,035 communes before 1 July 2025 to every 2025 commune it became
  (the ``became`` attribute of communes_pre2025.csv, names matched by :func:`place_key` within the province the
  old province merged into).  Note ``whole`` — the old commune went entirely into that one —, or, for an old
  commune divided between several, ``part_main`` (the source's pick by location) and ``part``.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from dancu.catalogs import names
from dancu.kit.text import exact_key, fold

DATA_DIR = Path(__file__).parent / "data"
_PARENTHESISED = re.compile(r"\(([^)]*)\)")
_SEPARATORS = re.compile(r"[\s\-'’]+")
_PLACE_SEPARATORS = re.compile(r"[\s\-'’‘–—]+")

# 1979 code -> 2008 code, for pairs whose names no normalisation reconciles.  Empty today: every
# spelling difference (HMông/H'mông (Mèo), Co Lao/Cơ Lao, Gié Triêng/Giẻ-Triêng) is absorbed by folding,
# and the mapping file records which pairs needed folding (note "folded") rather than an exact match.
ETHNIC_OVERRIDES: dict[str, str] = {}
ETHNIC_UNMAPPED = frozenset({"55", "99"})  # người nước ngoài, không rõ: not ethnic groups of Vietnam


@dataclass(frozen=True)
class Pair:
    from_code: str
    to_code: str
    note: str


def name_key(name: str) -> str:
    """Loosest comparable form of an ethnic or place name: folded, no separators."""
    return _SEPARATORS.sub("", fold(name))


def place_key(name: str) -> str:
    """Comparable form of a commune name: :func:`exact_key` (case and tone placement ignored, every letter and
    tone kept — Đồng Tâm and Đông Tâm stay apart) with hyphens, dashes and apostrophes read as spaces
    ("Ea H'Leo" = "Ea H’Leo", "Chân Mây - Lăng Cô" = "Chân Mây – Lăng Cô")."""
    return exact_key(_PLACE_SEPARATORS.sub(" ", name))


def _strict_key(name: str) -> str:
    return _SEPARATORS.sub(" ", exact_key(name)).strip()


def _main_name(name: str) -> str:
    return _PARENTHESISED.sub("", name).strip()


def _alternatives(name: str) -> list[str]:
    return [alt.strip() for group in _PARENTHESISED.findall(name) for alt in group.split(",") if alt.strip()]


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def ethnic_pairs(old: Iterable[Mapping[str, str]], new: Iterable[Mapping[str, str]]) -> list[Pair]:
    """Match each 1979 group to exactly one 2008 group; raise when a group is left over or doubled."""
    by_main = {name_key(_main_name(r["name_vi"])): r for r in new}
    by_alt = {name_key(alt): r for r in new for alt in _alternatives(r["name_vi"])}
    pairs = []
    for row in old:
        code = row["code"]
        if code in ETHNIC_UNMAPPED:
            continue
        if code in ETHNIC_OVERRIDES:
            pairs.append(Pair(code, ETHNIC_OVERRIDES[code], "override"))
            continue
        key = name_key(row["name_vi"])
        target = by_main.get(key) or by_alt.get(key)
        if target is None:
            raise ValueError(f"1979 ethnic group {code} {row['name_vi']!r} matches no 2008 group")
        same = _strict_key(row["name_vi"]) == _strict_key(_main_name(target["name_vi"]))
        pairs.append(Pair(code, target["code"], "same" if same else "folded"))
    _check_bijection(pairs)
    return pairs


def _check_bijection(pairs: list[Pair]) -> None:
    targets = [p.to_code for p in pairs]
    doubled = {t for t in targets if targets.count(t) > 1}
    if doubled:
        raise ValueError(f"2008 codes reached twice: {sorted(doubled)}")


def province_pairs(old: Iterable[Mapping[str, str]], new: Iterable[Mapping[str, str]]) -> list[Pair]:
    """Each old province to the new one whose ``merged_from`` names it."""
    old_by_name = {name_key(r["name_vi"]): r["code"] for r in old}
    pairs = []
    for row in new:
        merged = json.loads(row["attrs"])["merged_from"]
        for old_name in merged:
            code = old_by_name.get(name_key(old_name))
            if code is None:
                raise ValueError(f"{row['name_vi']}: old province {old_name!r} not found")
            note = "giữ nguyên" if len(merged) == 1 else "hợp nhất"
            pairs.append(Pair(code, row["code"], note))
    return sorted(pairs, key=lambda p: p.from_code)


def commune_pairs(
    old: Iterable[Mapping[str, str]], new: Iterable[Mapping[str, str]], provinces: Mapping[str, str]
) -> list[Pair]:
    """Each old commune to every new commune its ``became`` attribute names, looked up in the new province
    (``provinces``: old province code → new) that its old province merged into; raise on a name not found."""
    by_name: dict[tuple[str, str], str] = {}
    for row in new:
        key = (row["parent_code"], place_key(row["name_vi"]))
        if key in by_name:
            raise ValueError(f"two communes named {row['name_vi']!r} in province {row['parent_code']}")
        by_name[key] = row["code"]
    pairs = []
    for row in old:
        attrs = json.loads(row["attrs"])
        province = provinces[row["parent_code"]]
        for name in attrs["became"]:
            code = by_name.get((province, place_key(name)))
            if code is None:
                raise ValueError(f"old commune {row['code']}: {name!r} is not a commune of province {province}")
            note = "whole" if not attrs.get("divided") else "part_main" if name == attrs["main"] else "part"
            pairs.append(Pair(row["code"], code, note))
    return sorted(pairs, key=lambda p: (p.from_code, p.to_code))


def write_pairs(path: Path, pairs: Iterable[Pair]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["from_code", "to_code", "note"])
        writer.writerows((p.from_code, p.to_code, p.note) for p in pairs)


def compute(data_dir: Path = DATA_DIR) -> dict[str, list[Pair]]:
    def rows(catalog: str) -> list[dict[str, str]]:
        return read_rows(data_dir / names.catalog_file(catalog))

    provinces = province_pairs(rows(names.PROVINCE_63), rows(names.PROVINCE))
    return {
        names.ETHNIC_1979_TO_2008: ethnic_pairs(rows(names.ETHNIC_GROUP_1979), rows(names.ETHNIC_GROUP)),
        names.PROVINCE_63_TO_34: provinces,
        names.COMMUNE_63_TO_2025: commune_pairs(
            rows(names.COMMUNE_63), rows(names.COMMUNE), {p.from_code: p.to_code for p in provinces}
        ),
    }


def main() -> None:
    for mapping, pairs in compute().items():
        write_pairs(DATA_DIR / names.mapping_file(mapping), pairs)
        print(f"{mapping}: {len(pairs)} pairs")


if __name__ == "__main__":
    main()
