"""Demographic matching, pure parts: Vietnamese name rules, comparison levels, blocking keys, the model."""

from __future__ import annotations

import random
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from dancu.sync import testdata
from dancu.sync.matching.blocking import record_keys, resident_keys
from dancu.sync.matching.fields import Name, dob_level, name_levels
from dancu.sync.matching.model import Model, decide, learn, score
from dancu.sync.matching.scoring import Person, compare, rank
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
