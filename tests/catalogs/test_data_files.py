"""Properties of the shipped data files and mappings (no database)."""

from __future__ import annotations

import json

import pytest

from dancu.catalogs import build_mapping, names
from dancu.catalogs.build_mapping import DATA_DIR, name_key, read_rows
from dancu.catalogs.loader import DataFileError, parse_entries, parse_pairs


def rows(catalog: str) -> list[dict[str, str]]:
    return read_rows(DATA_DIR / names.catalog_file(catalog))


def pairs(mapping: str) -> dict[str, str]:
    return {r["from_code"]: r["to_code"] for r in read_rows(DATA_DIR / names.mapping_file(mapping))}


@pytest.mark.parametrize("catalog", names.CATALOGS)
def test_every_catalogue_file_parses(catalog: str) -> None:
    path = DATA_DIR / names.catalog_file(catalog)
    entries = parse_entries(catalog, path.read_text(encoding="utf-8"), path.name)
    assert entries
    assert len({(e.code, e.valid_from) for e in entries}) == len(entries)


def test_shipped_mappings_are_what_build_mapping_computes() -> None:
    for mapping, computed in build_mapping.compute().items():
        path = DATA_DIR / names.mapping_file(mapping)
        shipped = parse_pairs(path.read_text(encoding="utf-8"), path.name)
        assert [(p.from_code, p.to_code, p.note) for p in computed] == list(shipped)


def test_both_ethnic_lists_have_54_groups() -> None:
    codes_2008 = [r["code"] for r in rows(names.ETHNIC_GROUP)]
    codes_1979 = [r["code"] for r in rows(names.ETHNIC_GROUP_1979)]
    expected = [f"{n:02d}" for n in range(1, 55)]
    assert codes_2008 == expected
    assert codes_1979 == [*expected, "55", "99"]


def test_every_1979_group_maps_to_exactly_one_2008_group() -> None:
    mapped = pairs(names.ETHNIC_1979_TO_2008)
    assert sorted(mapped) == [f"{n:02d}" for n in range(1, 55)]
    assert sorted(mapped.values()) == [f"{n:02d}" for n in range(1, 55)]  # a bijection
    assert "55" not in mapped and "99" not in mapped


def test_mapped_ethnic_names_agree_after_folding() -> None:
    old = {r["code"]: r["name_vi"] for r in rows(names.ETHNIC_GROUP_1979)}
    new = {r["code"]: r["name_vi"].split("(")[0] for r in rows(names.ETHNIC_GROUP)}
    for from_code, to_code in pairs(names.ETHNIC_1979_TO_2008).items():
        if from_code in build_mapping.ETHNIC_OVERRIDES:
            continue
        assert name_key(old[from_code]) == name_key(new[to_code]), (from_code, to_code)


def test_spelling_differences_are_recorded_as_folded() -> None:
    notes = {r["from_code"]: r["note"] for r in read_rows(DATA_DIR / names.mapping_file(names.ETHNIC_1979_TO_2008))}
    assert {code for code, note in notes.items() if note != "same"} == {"08", "27", "47"}
    assert pairs(names.ETHNIC_1979_TO_2008)["04"] == "06"  # Hoa: 04 in 1979, 06 in 2008


def test_every_old_province_maps_to_one_new_province() -> None:
    old = [r["code"] for r in rows(names.PROVINCE_63)]
    new = {r["code"] for r in rows(names.PROVINCE)}
    mapped = read_rows(DATA_DIR / names.mapping_file(names.PROVINCE_63_TO_34))
    assert len(old) == 63 and len(new) == 34
    assert sorted(r["from_code"] for r in mapped) == sorted(old)  # each old code exactly once
    assert {r["to_code"] for r in mapped} == new  # every new province is the image of an old one
    assert pairs(names.PROVINCE_63_TO_34)["74"] == "79"  # Bình Dương into Hồ Chí Minh


def test_province_63_codes_are_the_id_codes_without_leading_zero() -> None:
    for r in rows(names.PROVINCE_63):
        attrs = json.loads(r["attrs"])
        assert attrs["id_code"] == "0" + r["code"]
        assert r["valid_to"] == names.MERGER_2025.isoformat()


def test_communes_belong_to_the_34_provinces() -> None:
    communes = rows(names.COMMUNE)
    provinces = {r["code"] for r in rows(names.PROVINCE)}
    assert len(communes) == 3321
    assert len({r["code"] for r in communes}) == 3321
    assert {r["parent_code"] for r in communes} == provinces


def test_malformed_rows_are_rejected() -> None:
    header = "code,name_vi,name_en,parent_code,valid_from,valid_to,attrs\n"
    with pytest.raises(DataFileError):
        parse_entries("x", header + "1,A,,,,,\n1,B,,,,,\n", "x.csv")
    with pytest.raises(DataFileError):
        parse_entries("x", header + "1,A,,,2025-13-01,,\n", "x.csv")
    with pytest.raises(DataFileError):
        parse_entries("x", header + "1,A,,,,,[1]\n", "x.csv")
    with pytest.raises(DataFileError):
        parse_entries("x", header + ",A,,,,,\n", "x.csv")


def commune_targets() -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for r in read_rows(DATA_DIR / names.mapping_file(names.COMMUNE_63_TO_2025)):
        out.setdefault(r["from_code"], []).append((r["to_code"], r["note"]))
    return out


def test_the_communes_before_2025_are_the_10035_of_the_63_provinces() -> None:
    old = rows(names.COMMUNE_63)
    assert len(old) == len({r["code"] for r in old}) == 10_035
    assert {r["parent_code"] for r in old} == {r["code"] for r in rows(names.PROVINCE_63)}
    assert {r["valid_to"] for r in old} == {names.MERGER_2025.isoformat()}  # exclusive: last day 2025-06-30
    assert all(len(r["code"]) == 5 and r["code"].isdigit() for r in old)
    kinds = [json.loads(r["attrs"])["kind"] for r in old]
    assert (kinds.count("xã"), kinds.count("phường"), kinds.count("thị trấn")) == (7_695, 1_724, 616)
    first = old[0]
    assert (first["code"], first["name_vi"], json.loads(first["attrs"])["district"]) == (
        "00001", "Phường Phúc Xá", "Quận Ba Đình")


def test_every_old_commune_went_into_communes_of_its_merged_province() -> None:
    targets = commune_targets()
    old = {r["code"]: r for r in rows(names.COMMUNE_63)}
    new = {r["code"]: r for r in rows(names.COMMUNE)}
    province = pairs(names.PROVINCE_63_TO_34)
    assert set(targets) == set(old)
    for code, went in targets.items():
        notes = sorted(note for _to, note in went)
        assert notes == ["whole"] or (notes.count("part_main") == 1 and set(notes) == {"part", "part_main"}), code
        assert {new[to]["parent_code"] for to, _note in went} == {province[old[code]["parent_code"]]}, code
        attrs = json.loads(old[code]["attrs"])
        assert sorted(new[to]["name_vi"] for to, _n in went) == sorted(attrs["became"])
        assert attrs.get("divided", False) == (notes != ["whole"])
    whole = sum(1 for went in targets.values() if len(went) == 1)
    assert (whole, len(targets) - whole, sum(map(len, targets.values()))) == (9_564, 471, 10_597)
    images = {to for went in targets.values() for to, _n in went}
    left = {code: r["name_vi"] for code, r in new.items() if code not in images}
    # the five special zones made of island districts that had no communes (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa…)
    assert len(left) == 5 and all(name.startswith("Đặc khu ") for name in left.values())


def test_known_commune_successors() -> None:
    targets = commune_targets()
    new = {r["code"]: r["name_vi"] for r in rows(names.COMMUNE)}
    assert [(new[to], note) for to, note in targets["00004"]] == [("Phường Ba Đình", "whole")]  # Trúc Bạch
    assert [(new[to], note) for to, note in targets["00001"]] == [("Phường Hồng Hà", "whole")]  # Phúc Xá
    divided = {new[to]: note for to, note in targets["00019"]}  # Phường Điện Biên, Quận Ba Đình
    assert divided == {"Phường Ba Đình": "part_main", "Phường Hoàn Kiếm": "part",
                       "Phường Văn Miếu - Quốc Tử Giám": "part", "Phường Ô Chợ Dừa": "part"}


def test_commune_codes_are_the_official_ones_not_the_draft() -> None:
    """communes_2025.csv once carried the NSO's draft codes (vietnam-provinces 2025.10.1): 123 of them differ from
    the official list (vietnamadminunits 1.0.4, vietnam-provinces 2026.9.0), nine draft codes naming another
    commune.  A regression to the draft list fails here."""
    new = {r["code"]: (r["parent_code"], r["name_vi"]) for r in rows(names.COMMUNE)}
    official = {
        "00082": ("01", "Phường Cửa Nam"),  # draft 00073
        "00226": ("01", "Phường Văn Miếu - Quốc Tử Giám"),  # draft 00196; draft 00226 was Kim Liên
        "00229": ("01", "Phường Kim Liên"),
        "00331": ("01", "Phường Hoàng Mai"),  # draft 00319; draft 00331 was Yên Sở
        "00340": ("01", "Phường Yên Sở"),
        "01537": ("04", "Xã Lý Quốc"),  # draft 01537 Vinh Quý, 01558 Lý Quốc, 01561 Hạ Lang
        "01558": ("04", "Xã Hạ Lang"),
        "01561": ("04", "Xã Vinh Quý"),
        "13285": ("37", "Phường Phủ Lý"),  # draft 13291, now Phù Vân
        "00004": ("01", "Phường Ba Đình"),  # unchanged ones
        "26743": ("79", "Phường Bến Thành"),
    }
    assert {code: new.get(code) for code in official} == official
    assert not {"00073", "00130", "00196", "00319"} & set(new)  # draft-only codes


def test_each_2025_commune_carries_the_code_of_an_old_commune_it_took_in() -> None:
    """The NSO's rule for the 2025 codes, which the draft list broke ten times: every new commune keeps the code of
    one of the old communes it was made of, except the five special zones made of island districts."""
    took = {(r["to_code"], r["from_code"]) for r in read_rows(DATA_DIR / names.mapping_file(names.COMMUNE_63_TO_2025))}
    new = {r["code"]: r["name_vi"] for r in rows(names.COMMUNE)}
    others = {code: name for code, name in new.items() if (code, code) not in took}
    assert others == {"11948": "Đặc khu Bạch Long Vĩ", "19742": "Đặc khu Cồn Cỏ", "20333": "Đặc khu Hoàng Sa",
                      "21548": "Đặc khu Lý Sơn", "26732": "Đặc khu Côn Đảo"}


def test_place_key_ignores_apostrophe_dash_and_tone_placement_only() -> None:
    assert build_mapping.place_key("Xã Ea H'Leo") == build_mapping.place_key("Xã Ea H’Leo")
    assert build_mapping.place_key("Xã Chân Mây - Lăng Cô") == build_mapping.place_key("Xã Chân Mây – Lăng Cô")
    assert build_mapping.place_key("Xã Thuận Hoà") == build_mapping.place_key("Xã Thuận Hòa")
    assert build_mapping.place_key("Xã Đồng Tâm") != build_mapping.place_key("Xã Đông Tâm")


def test_commune_pairs_refuse_an_unknown_successor() -> None:
    old = [{"code": "00001", "parent_code": "01", "attrs": '{"became": ["Phường Nowhere"]}'}]
    new = [{"code": "00004", "parent_code": "01", "name_vi": "Phường Ba Đình"}]
    with pytest.raises(ValueError, match="Nowhere"):
        build_mapping.commune_pairs(old, new, {"01": "01"})
    with pytest.raises(ValueError, match="Ba Dình"):  # a letter's tone is never papered over
        build_mapping.commune_pairs([{**old[0], "attrs": '{"became": ["Phường Ba Dình"]}'}], new, {"01": "01"})
    found = build_mapping.commune_pairs([{**old[0], "attrs": '{"became": ["phường ba đình"]}'}], new, {"01": "01"})
    assert found == [build_mapping.Pair("00001", "00004", "whole")]
