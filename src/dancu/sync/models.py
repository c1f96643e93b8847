"""Tables of sector synchronisation: one outcome row per input record that needs one.

``sync_record`` holds the records that are not simply linked — ``review``, ``unmatched_id`` and ``rejected``
(stage (a)), and whatever stage (b) decides for the unmatched ones.  A record linked by stage (a) has no row:
it is counted in the job report and its provenance (job, line) is on its ``resident_sector_id`` row.

``detail`` of a stage-(a) row (the contract with stage (b) demographic matching and with the reviewer)::

    {"name": "same"|"variant"|"different",          # only when the ID found a resident
     "dob": "same"|"partial"|"swapped"|"different", # idem
     "sex": "same"|"unknown"|"different",           # idem
     "existing": "<the resident's current value>",  # only when there is one
     "name_similarity": 0.412,                      # only when name = different
     "record": {                                    # always, every key present (null when unknown)
         "personal_id": "001085001234" | null,      # 12 digits after removing spaces/dots/dashes, else null
         "full_name": "Nguyễn Văn An" | null,       # NFC, spaces collapsed (kit.text.clean)
         "name_folded": "nguyen van an" | null,     # kit.text.fold
         "name_loose": "an nguyen" | null,          # matching.names.loose_key (SQL sync_name_loose)
         "date_of_birth": "1985-04" | null,         # partial date; day and month already un-swapped
         "dob_year": 1985, "dob_month": 4 | null, "dob_day": null,
         "sex": "1" | "2" | null,
         "province": "01" | null,                   # 34-province code (old 63 codes mapped)
         "commune": "00004" | null,                 # as given, when the source maps a commune column
         "sector_value": "GD4010012345678" | null}}
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dancu.db.base import Base


class SyncRecord(Base):
    """What became of one input record: linked, review, unmatched_id or rejected, with reasons and detail.

    ``detail`` explains the comparison (name, dob, sex, sector value) and, except for linked records, keeps
    the normalised record for the reviewer and for stage (b) demographic matching.
    """

    __tablename__ = "sync_record"
    __table_args__ = (
        Index("ix_sync_record_open_review", "job_id", "line_no", postgresql_where=text("review_state = 'open'")),
    )

    job_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    line_no: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    outcome: Mapped[str] = mapped_column(Text)  # linked | review | unmatched_id | rejected
    resident_id: Mapped[int | None] = mapped_column(BigInteger)
    reasons: Mapped[list[str]] = mapped_column(ARRAY(Text))
    sector_value: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)
    review_state: Mapped[str | None] = mapped_column(Text)  # open | accepted | rejected (review outcomes only)
    reviewed_by: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_note: Mapped[str | None] = mapped_column(Text)
