"""Issuing personal ID numbers: reserve counter values per prefix, scramble them into serials, record each.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from dancu.registry.id_number import SERIAL_SPACE, prefix_for, scramble

_RESERVE = text(
    """
    INSERT INTO personal_id_sequence (prefix, next_seq) VALUES (:prefix, :count)
    ON CONFLICT (prefix) DO UPDATE SET next_seq = personal_id_sequence.next_seq + :count
    RETURNING next_seq - :count
    """
)
_CLAIM = text(
    """
    INSERT INTO personal_id_number (number, resident_id, origin) VALUES (:number, :resident_id, :origin)
    ON CONFLICT (number) DO NOTHING
    """
)


def reserve(session: Session, prefix: str, count: int) -> int:
    """Reserve ``count`` consecutive counter values for ``prefix``; returns the first one.

    The row lock taken by the upsert serialises concurrent issuers of the same prefix only.
    """
    return int(session.execute(_RESERVE, {"prefix": prefix, "count": count}).scalar_one())


def serials(prefix: str, first: int, count: int, key: bytes) -> list[str]:
    return [prefix + scramble(seq, key, prefix) for seq in range(first, first + count)]


def issue(
    session: Session, *, place_code: str, birth_year: int, sex: str, resident_id: int, key: bytes
) -> str:
    """Issue one new number for a resident; skips numbers already taken (e.g. imported ones)."""
    prefix = prefix_for(place_code, birth_year, sex)
    for _ in range(SERIAL_SPACE):
        number = serials(prefix, reserve(session, prefix, 1), 1, key)[0]
        claimed = session.execute(_CLAIM, {"number": number, "resident_id": resident_id, "origin": "issued"})
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            return number
    raise RuntimeError("unreachable: scramble raises when the prefix is exhausted")


def claim_existing(session: Session, number: str, resident_id: int) -> bool:
    """Record a number issued elsewhere (imported records); False when it is already someone's."""
    result = session.execute(_CLAIM, {"number": number, "resident_id": resident_id, "origin": "imported"})
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
