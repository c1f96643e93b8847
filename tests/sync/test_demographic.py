"""Demographic matching, pure parts: Vietnamese name rules, comparison levels, blocking keys, the model."""

from __future__ import annotations

import random
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from dancu.catalogs import names as catalog_names
from dancu.catalogs.build_mapping import DATA_DIR, read_rows
from dancu.sync import testdata
from dancu.sync.matching.blocking import record_keys, resident_keys
from dancu.sync.matching.fields import NO_COMMUNES, Communes, Name, dob_level, name_levels
from dancu.sync.matching.model import Model, decide, learn, score
from dancu.sync.matching.scoring import Person, compare, rank
from dancu.sync.matching.stage_b import record_person, resident_person
from dancu.sync.sources import BUILT_IN
from dancu.synth import names as synth_names

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Ngọc", "Minh", "Đức", "Thu", "Hữu", "Kim"]
GIVEN = sorted(set(synth_names.GIVEN_MALE + synth_names.GIVEN_FEMALE))
names = st.builds(lambda f, m, g: " ".join([f, *m, g]), st.sampled_from(FAMILY),
                  st.lists(st.sampled_from(MIDDLE), max_size=2), st.sampled_from(GIVEN))
dobs = st.tuples(st.integers(1930, 2024), st.integers(1, 12), st.integers(1, 28))
SOURCE = BUILT_IN["bhyt"]


def person(name: str, dob: tuple[int | None, int | None, int | None] = (1990, 5, 17), sex: str = "1",
           province: str = "01") -> Person:
    return Person(Name.parse(name), dob, sex, (province,))


def noisy(name: str, kind: str, dob: tuple[int, int, int] = (1990, 5, 7), province: str = "01") -> str:
    true = testdata.TrueResident(1, "001090000001", name, dob, "1", province, ())
    return testdata.record(random.Random(5), true, kind, SOURCE).values["ho_ten"]


def strip_marks(text: str) -> str:
    bare = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in bare if not unicodedata.combining(c))


@given(names)
def test_nfc_and_nfd_spellings_are_the_same_name(name: str) -> None:
    assert name_levels(Name.parse(unicodedata.normalize("NFD", name)), Name.parse(name))[:2] == ("exact", "exact")


@given(names)
def test_missing_diacritics_and_d_stroke_fold_to_the_same_words(name: str) -> None:
    given_, family, middle, _ = name_levels(Name.parse(strip_marks(name)), Name.parse(name))
    assert given_ in ("exact", "folded") and family in ("exact", "folded") and middle == "same"


@given(names)
def test_old_tone_placement_is_an_exact_match(name: str) -> None:
    moved = " ".join(testdata._swap_tone(w) for w in name.split())
    assert name_levels(Name.parse(moved), Name.parse(name))[:3] == ("exact", "exact", "same")


@given(names)
def test_vu_vo_and_hoang_huynh_are_loose_variants_of_the_family_name(name: str) -> None:
    swaps = {"Vũ": "Võ", "Võ": "Vũ", "Hoàng": "Huỳnh", "Huỳnh": "Hoàng"}
    words = name.split()
    other = " ".join([swaps.get(words[0], words[0]), *words[1:]])
    family = name_levels(Name.parse(other), Name.parse(name))[1]
    assert family == ("loose" if words[0] in swaps else "exact")


@given(st.sampled_from(FAMILY), st.sampled_from(["Vy", "Ly", "My", "Thy"]))
def test_final_i_y_is_a_loose_variant_of_the_given_name(family: str, given_: str) -> None:
    level = name_levels(Name.parse(f"{family} Thị {given_[:-1]}i"), Name.parse(f"{family} Thị {given_}"))[0]
    assert level == "loose"


@given(names)
def test_dropped_van_thi_and_reversed_order_keep_given_and_family(name: str) -> None:
    dropped = name_levels(Name.parse(noisy(name, "drop_middle")), Name.parse(name))
    reversed_text = noisy(name, "reversed")
    turned = name_levels(Name.parse(reversed_text), Name.parse(name))
    assert dropped[:2] == ("exact", "exact") and dropped[2] in ("same", "dropped")
    # "Lê Lê" reads the same both ways: nothing to turn round
    assert turned[:3] == ("exact", "exact", "same") and turned[3] is (reversed_text != name)


@given(names, dobs, st.sampled_from(["no_diacritics", "old_tone", "vu_vo", "hoang_huynh", "drop_middle",
                                     "reversed"]))
def test_name_noise_keeps_the_blocking_keys(name: str, dob: tuple[int, int, int], kind: str) -> None:
    keys = resident_keys(" ".join(Name.parse(name).folded), dob, "1", ("01",))
    assert record_keys(noisy(name, kind), dob, "1", "01") & keys


@given(names, dobs)
def test_partial_and_swapped_dates_keep_a_blocking_key(name: str, dob: tuple[int, int, int]) -> None:
    keys = resident_keys(" ".join(Name.parse(name).folded), dob, "1", ("01",))
    year, month, day = dob
    assert record_keys(name, (year, None, None), "1", "01") & keys
    assert record_keys(name, (year, day, month), "1", None) & keys or day > 12


def test_dob_levels() -> None:
    assert dob_level((1990, 5, 7), (1990, 5, 7)) == "exact"
    assert dob_level((1990, 7, 5), (1990, 5, 7)) == "swapped"
    assert dob_level((1990, 5, None), (1990, 5, 7)) == "year_month"
    assert dob_level((1990, None, None), (1990, 5, 7)) == "year"
    assert dob_level((1991, 5, 7), (1990, 5, 7)) == "year_off"
    assert dob_level((1990, 6, 7), (1990, 5, 7)) == "different"


def test_a_typo_in_the_given_name_is_close_not_exact() -> None:
    assert name_levels(Name.parse("Nguyễn Văn Tuân"), Name.parse("Nguyễn Văn Tuấn"))[0] == "folded"
    assert name_levels(Name.parse("Nguyễn Văn Tuyn"), Name.parse("Nguyễn Văn Tuấn"))[0] == "close"
    assert name_levels(Name.parse("Nguyễn Văn Hải"), Name.parse("Nguyễn Văn Tuấn"))[0] == "different"


def test_a_rare_given_name_weighs_more_than_a_common_one() -> None:
    model = Model.default()
    common = score(model, 1, {"given": "exact"}, {"given": 0.04}).score
    rare = score(model, 2, {"given": "exact"}, {"given": 0.0001}).score
    nguyen = score(model, 3, {"family": "exact"}, {"family": 0.39}).score
    assert rare > common + 5 and nguyen < 2


def test_a_clean_record_links_and_namesakes_go_to_review() -> None:
    model = Model.default()
    record = person("Nguyễn Văn Khiêm")
    alone = [s for s, _ in rank(model, record, [(1, person("Nguyễn Văn Khiêm")), (2, person("Trần Văn Hải"))], {})]
    assert decide(model, alone) == ("linked", None)
    twins = [s for s, _ in rank(model, person("Nguyễn Văn Khiêm", (1990, None, None)),
                                [(1, person("Nguyễn Văn Khiêm")), (2, person("Nguyễn Văn Khiêm", (1990, 8, 2)))], {})]
    assert decide(model, twins) == ("review", "ambiguous_candidates")
    assert decide(model, [s for s, _ in rank(model, record, [(3, person("Lê Thị Hoa", (1970, 1, 1), "2"))], {})])[0] \
        == "unmatched"


def test_learnt_weights_follow_the_confirmed_pairs() -> None:
    """A source that writes names without diacritics and years only: folded names and year-only dates weigh more
    than the defaults say; random pairs set u."""
    truth = [person(n, (1980 + i % 30, 1 + i % 12, 1 + i % 28)) for i, n in
             enumerate(f"{FAMILY[i % 13]} Văn {GIVEN[i % len(GIVEN)]}" for i in range(400))]
    records = [Person(Name.parse(strip_marks(" ".join(p.name.exact))), (p.dob[0], None, None), p.sex, p.provinces)
               for p in truth]
    matches = [compare(r, t)[0] for r, t in zip(records, truth, strict=True)]
    randoms = [compare(r, t)[0] for r in records[:50] for t in truth[100:150]]
    default = Model.default()
    learnt = learn(default, matches, randoms)
    assert learnt.m["given"]["folded"] > default.m["given"]["folded"]
    assert learnt.m["dob"]["year"] > default.m["dob"]["year"]
    assert learnt.weight("dob", "year") > default.weight("dob", "year")
    assert learnt.m["dob"]["exact"] < default.m["dob"]["exact"]
    assert Model.from_json(learnt.to_json()) == learnt


# -- communes before and after 1 July 2025 --------------------------------------------------------------------

_PAIRS = [(r["from_code"], r["to_code"])
          for r in read_rows(DATA_DIR / catalog_names.mapping_file(catalog_names.COMMUNE_63_TO_2025))]
_CURRENT = [r["code"] for r in read_rows(DATA_DIR / catalog_names.catalog_file(catalog_names.COMMUNE))]
COMMUNES = Communes(_PAIRS, _CURRENT)
_WENT: dict[str, set[str]] = {}
for _old, _new in _PAIRS:
    _WENT.setdefault(_old, set()).add(_new)


def in_commune(name: str, code: str | None, communes: Communes = COMMUNES) -> Person:
    """A resident as stage (b) reads one from the registry (``RESIDENT_FIELDS``), living in ``code``."""
    return resident_person((1, name, 1990, 5, 17, "1", "01", "01", code, code, None), communes)


def writing(name: str, code: str | None, communes: Communes = COMMUNES) -> Person:
    """A sector record as stage (a) keeps it (``detail.record``), giving commune ``code``."""
    record = record_person({"full_name": name, "dob_year": 1990, "dob_month": 5, "dob_day": 17, "sex": "1",
                            "province": "01", "commune": code}, lambda c: c, communes)
    assert record is not None
    return record


@given(st.sampled_from(_PAIRS), names)
def test_an_old_commune_code_agrees_with_each_commune_it_went_to(pair: tuple[str, str], name: str) -> None:
    old, new = pair
    record = writing(name, old)
    assert set(record.communes) >= _WENT[old]
    assert compare(record, in_commune(name, new))[0]["commune"] == "same"
    # A resident still holding the old code (registry data from before the reform) agrees too.
    assert compare(record, in_commune(name, old))[0]["commune"] == "same"


@given(st.sampled_from(sorted(_WENT)), st.sampled_from(_CURRENT))
def test_an_old_commune_code_disagrees_with_every_other_commune(old: str, other: str) -> None:
    elsewhere = compare(writing("Lê Văn An", old), in_commune("Lê Văn An", other))[0]["commune"]
    assert elsewhere == ("same" if other in _WENT[old] or other == old else "different")


def test_commune_codes_before_and_after_2025() -> None:
    communes = Communes([("00001", "00097"), ("00004", "00004"), ("00019", "00004"), ("00019", "00070")],
                        ["00004", "00070", "00097"])
    assert communes.record("00001") == ("00097",) and communes.is_old("00001")  # Phúc Xá: no current code 00001
    assert communes.record("00019") == ("00004", "00070") and communes.is_old("00019")
    assert communes.record("00004") == ("00004",) and not communes.is_old("00004")  # kept by Ba Đình
    assert communes.record("00097") == ("00097",) and communes.record("12345") == ("12345",)
    assert communes.record(None) == () == communes.resident(None, "")
    # The registry holds current codes: a resident's 00004 is Ba Đình, not also what old 00004 became.
    assert communes.resident("00004", "00001") == ("00004", "00097")
    assert communes.resident("00019", "00004") == ("00004", "00070")
    assert bool(communes) and not NO_COMMUNES and NO_COMMUNES.record("00001") == ("00001",)


def test_without_the_mapping_commune_codes_compare_as_given() -> None:
    record = writing("Lê Văn An", "00001", NO_COMMUNES)
    assert compare(record, in_commune("Lê Văn An", "00097", NO_COMMUNES))[0]["commune"] == "different"
    assert compare(record, in_commune("Lê Văn An", "00001", NO_COMMUNES))[0]["commune"] == "same"
    assert "commune" not in compare(record, in_commune("Lê Văn An", None))[0]
    assert "commune" not in compare(writing("Lê Văn An", None), in_commune("Lê Văn An", "00097"))[0]


def test_an_old_commune_code_separates_namesakes_of_neighbouring_communes() -> None:
    model = Model.default()
    record = writing("Nguyễn Văn Khiêm", "00001")  # Phúc Xá, now in Phường Hồng Hà (00097)
    ranked = [s for s, _ in rank(model, record, [(1, in_commune("Nguyễn Văn Khiêm", "00004")),
                                                 (2, in_commune("Nguyễn Văn Khiêm", "00097"))], {})]
    assert ranked[0].resident_id == 2 and decide(model, ranked) == ("linked", None)
    plain = writing("Nguyễn Văn Khiêm", "00001", NO_COMMUNES)
    tied = [s for s, _ in rank(model, plain, [(1, in_commune("Nguyễn Văn Khiêm", "00004", NO_COMMUNES)),
                                              (2, in_commune("Nguyễn Văn Khiêm", "00097", NO_COMMUNES))], {})]
    assert decide(model, tied) == ("review", "ambiguous_candidates")
