"""In-memory snapshot of the catalogues for validating writes: one query per new catalogue state."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from dancu.catalogs import names
from dancu.catalogs import repository as repo
from dancu.catalogs.repository import EntryRow
from dancu.errors import field_error

_CACHE: dict[tuple[int, date], CatalogLookup] = {}
_CACHE_SIZE = 8
PART = "part"  # mapping note: a part of the old unit went to this new one, and it is not the main part
_LOCK = threading.Lock()


@dataclass(frozen=True)
class _Catalog:
    valid: frozenset[str]  # valid on the snapshot date
    started: frozenset[str]  # valid on the date or before it (expired included)
    names: dict[str, str]  # code -> Vietnamese name, the valid entry's when there is one
    parents: dict[str, str]  # code -> parent code (a commune's province)


class CatalogLookup:
    """Which codes exist, on one date.  Immutable, shared between threads and requests."""

    def __init__(
        self, on: date, entries: Iterable[EntryRow], pairs: Iterable[tuple[str, str, str, str | None]]
    ) -> None:
        self.on = on
        entries = list(entries)
        self._catalogs = _index(entries, on)
        found: dict[str, dict[str, list[tuple[str, str | None]]]] = defaultdict(lambda: defaultdict(list))
        for mapping, from_code, to_code, note in pairs:
            found[mapping][from_code].append((to_code, note))
        self._targets = {m: {code: _main_first(targets) for code, targets in by_code.items()}
                         for m, by_code in found.items()}
        self._id_place_codes = frozenset(
            str(e.attrs["id_code"]) for e in _entries_of(entries, names.PROVINCE_63) if "id_code" in e.attrs
        )

    @classmethod
    def load(cls, session: Session, on: date | None = None) -> CatalogLookup:
        """The catalogues as valid on ``on`` (default today), cached until a catalogue changes."""
        on = on or date.today()
        key = (repo.last_version_id(session), on)
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        lookup = cls(on, repo.entries(session), repo.mapping_pairs(session))
        with _LOCK:
            if len(_CACHE) >= _CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = lookup
        return lookup

    def has(self, catalog: str, code: str, include_expired: bool = False) -> bool:
        """Is ``code`` valid on the snapshot date (or, with ``include_expired``, was it ever by then)?"""
        found = self._catalogs.get(catalog)
        if found is None or not isinstance(code, str):
            return False
        return code in (found.started if include_expired else found.valid)

    def name(self, catalog: str, code: str) -> str | None:
        found = self._catalogs.get(catalog)
        return found.names.get(code) if found is not None else None

    def parent(self, catalog: str, code: str) -> str | None:
        """The parent code of an entry (a commune's province), if it has one."""
        found = self._catalogs.get(catalog)
        return found.parents.get(code) if found is not None else None

    def codes(self, catalog: str) -> frozenset[str]:
        """Codes valid on the snapshot date; empty for an unknown or unloaded catalogue."""
        found = self._catalogs.get(catalog)
        return found.valid if found is not None else frozenset()

    def id_place_codes(self) -> frozenset[str]:
        """3-digit place codes allowed as the first digits of a personal ID number.

        The province codes of Thông tư 07/2016/TT-BCA, which stay valid for numbers issued before the
        2025 merger.  The country codes used for people born abroad are not included: no official
        list has been sourced yet.
        """
        return self._id_place_codes

    def map_code(self, mapping: str, code: str) -> str | None:
        """The one code ``code`` became; for an old commune divided between several new ones, the main part
        (note ``part_main``) — use :meth:`map_codes` where every part counts."""
        targets = self._targets.get(mapping, {}).get(code)
        return targets[0] if targets else None

    def map_codes(self, mapping: str, code: str) -> tuple[str, ...]:
        """Every code ``code`` became (one-to-many: a divided commune), the main one first; empty if unmapped."""
        return self._targets.get(mapping, {}).get(code, ())


def _main_first(targets: list[tuple[str, str | None]]) -> tuple[str, ...]:
    """Target codes with the main one first: the first not noted ``part`` (``whole``, ``part_main``, or a
    one-to-one mapping's own note), else the first; the others keep their order (by code)."""
    main = next((i for i, (_code, note) in enumerate(targets) if note != PART), 0)
    codes = [code for code, _note in targets]
    return (codes[main], *codes[:main], *codes[main + 1:])


def _entries_of(entries: Iterable[EntryRow], catalog: str) -> list[EntryRow]:
    return [e for e in entries if e.catalog == catalog]


def _index(entries: Iterable[EntryRow], on: date) -> dict[str, _Catalog]:
    valid: dict[str, set[str]] = defaultdict(set)
    started: dict[str, set[str]] = defaultdict(set)
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    parents: dict[str, dict[str, str]] = defaultdict(dict)
    for entry in sorted(entries, key=lambda e: (e.catalog, e.code, e.valid_from)):
        if entry.valid_from > on:
            continue
        started[entry.catalog].add(entry.code)
        is_valid = entry.valid_to is None or entry.valid_to > on
        if is_valid:
            valid[entry.catalog].add(entry.code)
        if is_valid or entry.code not in valid[entry.catalog]:
            labels[entry.catalog][entry.code] = entry.name_vi
            if entry.parent_code:
                parents[entry.catalog][entry.code] = entry.parent_code
    return {c: _Catalog(frozenset(valid[c]), frozenset(started[c]), labels[c], parents[c]) for c in started}


def validate_code(
    lookup: CatalogLookup, catalog: str, code: object, field: str, include_expired: bool = False
) -> dict[str, str] | None:
    """A ``field_error`` (code ``unknown_code``) when ``code`` is not in ``catalog``; never raises."""
    if isinstance(code, str) and lookup.has(catalog, code, include_expired=include_expired):
        return None
    shown = code if isinstance(code, str) else repr(code)
    shown = shown if len(shown) <= 40 else shown[:40] + "…"
    return field_error(
        field,
        "unknown_code",
        f"Mã '{shown}' không có trong danh mục {catalog}.",
        f"Code '{shown}' is not in catalogue {catalog}.",
    )
