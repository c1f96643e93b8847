"""Personal ID numbers for a whole chunk, from the registry's own per-prefix counters.

Same counters and same scrambling as :mod:`dancu.registry.numbers` (``reserve`` + ``serials``), but one
statement reserves every prefix a chunk needs: a chunk of 10,000 people touches thousands of prefixes
(place × century/sex × year), and one round trip per prefix would dominate the load.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import psycopg

from dancu.registry.id_number import prefix_for
from dancu.registry.numbers import serials
from dancu.synth.population import Person

_RESERVE_MANY = """
    INSERT INTO personal_id_sequence (prefix, next_seq)
    SELECT prefix, count FROM unnest(%s::text[], %s::int[]) AS r(prefix, count) ORDER BY prefix
    ON CONFLICT (prefix) DO UPDATE SET next_seq = personal_id_sequence.next_seq + EXCLUDED.next_seq
    RETURNING prefix, next_seq
"""


def person_prefix(person: Person) -> str:
    return prefix_for("0" + person.birth_province, person.dob_year, person.sex)


def reserve_many(cur: psycopg.Cursor, counts: dict[str, int]) -> dict[str, int]:
    """Reserve ``counts[prefix]`` counter values per prefix (locks taken in prefix order); first value each."""
    prefixes = sorted(counts)
    cur.execute(_RESERVE_MANY, (prefixes, [counts[p] for p in prefixes]))
    return {prefix: int(next_seq) - counts[prefix] for prefix, next_seq in cur.fetchall()}


def issue_numbers(cur: psycopg.Cursor, people: Sequence[Person], key: bytes) -> list[str]:
    """One new number per person, in order; numbers already taken (imported ones) are skipped."""
    prefixes = [person_prefix(p) for p in people]
    pools = _draw(cur, Counter(prefixes), key)
    return [pools[prefix].pop() for prefix in prefixes]


def _draw(cur: psycopg.Cursor, needed: Counter[str], key: bytes) -> dict[str, list[str]]:
    pools: dict[str, list[str]] = {prefix: [] for prefix in needed}
    while needed:
        firsts = reserve_many(cur, dict(needed))
        fresh = {p: serials(p, firsts[p], n, key) for p, n in needed.items()}
        candidates = [number for numbers in fresh.values() for number in numbers]
        cur.execute("SELECT number FROM personal_id_number WHERE number = ANY(%s)", (candidates,))
        taken = {row[0] for row in cur.fetchall()}
        needed = Counter()
        for prefix, numbers in fresh.items():
            free = [n for n in numbers if n not in taken]
            pools[prefix].extend(reversed(free))  # pop() then hands them out in counter order
            if len(free) < len(numbers):
                needed[prefix] = len(numbers) - len(free)
    return pools
