"""SMS segmentation: GSM-7 vs UCS-2, single and concatenated limits, extension table, surrogate pairs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dancu.citizen.sms import segments
from dancu.citizen.sms.replies import HELP
from dancu.citizen.sms.segments import GSM7_BASIC, GSM7_EXTENSION, Encoding, length, split

GSM_TEXT = st.text(alphabet=st.sampled_from([c for c in GSM7_BASIC if c != "\x1b"] + list(GSM7_EXTENSION)))


def _within_limits(text: str) -> None:
    result = split(text)
    single, multi = segments.LIMITS[result.encoding]
    assert "".join(result.parts) == text
    limit = single if len(result.parts) == 1 else multi
    assert all(length(part, result.encoding) <= limit for part in result.parts)
    assert all(part for part in result.parts) or text == ""


@given(st.text())
def test_any_text_splits_within_limits(text: str) -> None:
    _within_limits(text)


@given(GSM_TEXT)
def test_gsm_text_stays_gsm(text: str) -> None:
    assert split(text).encoding is Encoding.GSM7
    _within_limits(text)
    for part in split(text).parts:
        assert segments.decode_gsm7(segments.encode(part, Encoding.GSM7)) == part


# à, è, é, ì, ò, ù are in the GSM-7 alphabet; every other Vietnamese mark is not
@given(st.text(min_size=1), st.sampled_from("ạảãáâậầấẩẫăắằặẳẵđĐơớờởỡợưứừửữự"))
def test_vietnamese_marks_mean_ucs2(text: str, mark: str) -> None:
    assert split(text + mark).encoding is Encoding.UCS2


def test_exact_limits() -> None:
    assert len(split("a" * 160).parts) == 1
    assert [len(p) for p in split("a" * 161).parts] == [153, 8]
    assert len(split("đ" * 70).parts) == 1
    assert [len(p) for p in split("đ" * 71).parts] == [67, 4]


def test_extension_characters_count_twice_and_are_not_split() -> None:
    assert len(split("€" * 80).parts) == 1
    parts = split("ab" + "€" * 80).parts
    assert [length(p, Encoding.GSM7) for p in parts] == [152, 10]


def test_surrogate_pairs_are_not_split() -> None:
    parts = split("a" + "😀" * 40).parts
    assert [length(p, Encoding.UCS2) for p in parts] == [67, 14]
    assert all(p.encode("utf-16-be") for p in parts)


def test_help_reply_is_ucs2_in_few_parts() -> None:
    result = split(HELP)
    assert result.encoding is Encoding.UCS2 and 2 <= len(result.parts) <= 4


def test_concatenation_header() -> None:
    assert segments.concat_udh(300, 3, 2) == bytes([5, 0, 3, 44, 3, 2])
