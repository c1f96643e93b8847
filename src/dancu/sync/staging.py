"""A batch of normalised records as ``COPY sync_stage`` text (one f-string per record)."""

from __future__ import annotations

from dancu.sync.matching.records import Staged

NULL = "\\N"
STAGE_COLUMNS = ("job_id", "line_no", "personal_id", "full_name", "name_folded", "name_loose", "dob_year",
                 "dob_month", "dob_day", "sex", "province", "sector_value", "problems", "notes")


def _text(value: str | None) -> str:
    """COPY text escaping; ``clean`` already turned tabs and newlines into spaces, so only ``\\`` remains."""
    if value is None:
        return NULL
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _int(value: int | None) -> str:
    return NULL if value is None else str(value)


def _codes(values: tuple[str, ...]) -> str:
    """A text[] of reason codes (lower-case identifiers: no quoting needed)."""
    return "{" + ",".join(values) + "}" if values else NULL


def stage_line(job_id: int, line_no: int, s: Staged) -> str:
    year, month, day = s.dob if s.dob else (None, None, None)
    return (f"{job_id}\t{line_no}\t{_text(s.personal_id)}\t{_text(s.full_name)}\t{_text(s.name_folded)}\t"
            f"{_text(s.name_loose)}\t{_int(year)}\t{_int(month)}\t{_int(day)}\t{_text(s.sex)}\t"
            f"{_text(s.province)}\t{_text(s.sector_value)}\t{_codes(s.problems)}\t{_codes(s.notes)}\n")
