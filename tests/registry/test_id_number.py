import pytest
from hypothesis import given
from hypothesis import strategies as st

from dancu.registry import id_number
from dancu.registry.id_number import IdNumberError

PLACES = frozenset({"001", "079", "048", "096"})
places = st.sampled_from(sorted(PLACES))
years = st.integers(1900, 2399)
sexes = st.sampled_from([id_number.MALE, id_number.FEMALE])
serials = st.integers(0, 999_999).map(lambda n: f"{n:06d}")


@given(places, years, sexes, serials)
def test_every_valid_number_round_trips(place: str, year: int, sex: str, serial: str) -> None:
    number = id_number.prefix_for(place, year, sex) + serial
    parsed = id_number.check(number, place_codes=PLACES, birth_year=year, sex=sex)
    assert (parsed.place_code, parsed.birth_year, parsed.sex, parsed.serial) == (place, year, sex, serial)
    assert parsed.number == number


@given(places, years, sexes, serials, st.integers(3, 5), st.integers(1, 9))
def test_any_change_to_digits_4_to_6_is_caught(
    place: str, year: int, sex: str, serial: str, position: int, shift: int
) -> None:
    number = id_number.prefix_for(place, year, sex) + serial
    mutated = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]
    with pytest.raises(IdNumberError):
        id_number.check(mutated, place_codes=PLACES, birth_year=year, sex=sex)


@given(st.binary(min_size=8, max_size=32), st.sampled_from(["001085", "079123", "048300"]))
def test_scramble_is_a_bijection_on_a_sample(key: bytes, prefix: str) -> None:
    outputs = [id_number.scramble(seq, key, prefix) for seq in range(0, 2000)]
    assert len(set(outputs)) == len(outputs)
    assert all(len(o) == 6 and o.isdigit() for o in outputs)


@given(st.integers(0, 999_999), st.binary(min_size=1, max_size=64))
def test_scramble_output_is_always_six_digits(sequence: int, key: bytes) -> None:
    out = id_number.scramble(sequence, key, "001085")
    assert len(out) == 6 and out.isascii() and out.isdigit()


@given(st.text())
def test_malformed_numbers_raise_only_id_number_error(text: str) -> None:
    if len(text) == 12 and text.isascii() and text.isdigit():
        return
    with pytest.raises(IdNumberError):
        id_number.parse(text)


@given(st.text(alphabet="0123456789", min_size=0, max_size=20).filter(lambda t: len(t) != 12))
def test_wrong_length_digit_strings_raise(text: str) -> None:
    with pytest.raises(IdNumberError):
        id_number.check(text, place_codes=PLACES)


@given(st.text(alphabet="٠١٢٣٤٥٦٧٨٩0123456789", min_size=12, max_size=12).filter(lambda t: not t.isascii()))
def test_non_ascii_digits_are_not_digits(text: str) -> None:
    with pytest.raises(IdNumberError):
        id_number.parse(text)


def test_unknown_place_is_refused() -> None:
    with pytest.raises(IdNumberError) as caught:
        id_number.check("999085000001", place_codes=PLACES)
    assert caught.value.code == "id_number_place"
