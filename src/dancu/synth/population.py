"""Pure generation of a synthetic population, household by household, in independently seeded chunks.

Chunk ``k`` of a population with seed ``S`` is drawn from ``random.Random(f"dancu-synth:{S}:{k}")`` only,
so any chunk can be regenerated alone (a resumed load regenerates exactly the chunks it has not stored).
Nothing here touches a database: personal ID numbers, resident and household ids are given out by the
loader; this module fixes every other field.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from typing import TypeVar

from dancu.kit.text import fold
from dancu.synth import tables as t
from dancu.synth.names import GIVEN_TABLES, MIDDLE_TABLES, YOUNG_FROM_YEAR, family_names

T = TypeVar("T")
REFERENCE_DATE = date(2025, 11, 1)  # "today" of the synthetic world, so ages never drift between runs
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # 29 Feb is never drawn
_KINDS = ("single", "couple", "nuclear", "single_parent", "extended")
_KIND_CUM = tuple(accumulate((9, 11, 52, 7, 21)))
_KIDS = (1, 2, 3, 4)
_KIDS_CUM = tuple(accumulate((20, 46, 24, 10)))
_PROVINCE_CODES = tuple(p.code for p in t.PROVINCES)
_SAME_BIRTH_PROVINCE = 0.85
_MALE_BIRTH_SHARE = 0.527  # sex ratio at birth ~111 boys per 100 girls


@dataclass(slots=True)
class Person:
    sex: str
    age: int
    relation: str
    father: int | None = None  # indexes into the household's members
    mother: int | None = None
    spouse: int | None = None
    family: str = ""
    middle: str = ""
    given: str = ""
    dob_year: int = 0
    dob_month: int | None = None
    dob_day: int | None = None
    birth_province: str = ""  # old 2-digit code (the ID number's place is "0" + this)
    home_town_province: str = ""
    marital: str = t.SINGLE
    blood: str = "O+"
    phone: str | None = None
    email: str | None = None
    old_id: str | None = None
    card_issued: date | None = None
    card_expires: date | None = None

    @property
    def full_name(self) -> str:
        return f"{self.family} {self.middle} {self.given}"


@dataclass(slots=True)
class Household:
    old_province: str
    province: str  # 34-province code of permanent and current residence
    commune: str  # commune code of permanent and current residence
    address: str
    residence_file_number: str
    ethnic: str
    religion: str
    members: list[Person] = field(default_factory=list)


@dataclass(slots=True)
class Chunk:
    seed: int
    number: int
    households: list[Household]

    def people(self) -> Iterator[tuple[Household, Person]]:
        for household in self.households:
            for person in household.members:
                yield household, person

    @property
    def size(self) -> int:
        return sum(len(h.members) for h in self.households)


def pick(r: float, values: Sequence[T], cum: Sequence[float]) -> T:
    """The value a uniform draw ``r`` in [0, 1) lands on; ``random.choices`` without its per-call overhead."""
    return values[bisect_right(cum, r * cum[-1])]


def chunk_sizes(total: int, chunk_size: int) -> list[int]:
    """Residents per chunk: full chunks, then the remainder."""
    full, rest = divmod(total, chunk_size)
    return [chunk_size] * full + ([rest] if rest else [])


def generate_chunk(seed: int, number: int, size: int, chunk_size: int) -> Chunk:
    """Exactly ``size`` residents in whole households (the last one trimmed to fit), deterministic."""
    rng = random.Random(f"dancu-synth:{seed}:{number}")
    households: list[Household] = []
    remaining = size
    while remaining > 0:
        members = _prune(_skeleton(rng)[:remaining])
        households.append(_household(rng, members, seed, number, len(households)))
        remaining -= len(members)
    ordinal = number * chunk_size
    for household in households:
        for person in household.members:
            _contacts(rng, person, seed, ordinal)
            ordinal += 1
    return Chunk(seed, number, households)


def relatives(household: Household, index: int) -> list[tuple[str, int]]:
    """(kind, member index) of the father, mother, spouse and children living in the same household."""
    person = household.members[index]
    found = [(kind, other) for kind, other in (("father", person.father), ("mother", person.mother),
                                               ("spouse", person.spouse)) if other is not None]
    found += [("child", i) for i, m in enumerate(household.members) if index in (m.father, m.mother)]
    return found


def fold_name(person: Person, cache: dict[str, str]) -> str:
    """``fold(full_name)``, assembled from cached folds of the three parts."""
    parts = []
    for part in (person.family, person.middle, person.given):
        folded = cache.get(part)
        if folded is None:
            folded = cache[part] = fold(part)
        parts.append(folded)
    return " ".join(parts)


# -- household composition -------------------------------------------------------------------------


def _skeleton(rng: random.Random) -> list[Person]:
    kind = pick(rng.random(), _KINDS, _KIND_CUM)
    if kind == "single":
        return [Person(t.MALE if rng.random() < 0.5 else t.FEMALE, rng.randint(18, 88), t.HEAD)]
    if kind == "single_parent":
        head = Person(t.FEMALE if rng.random() < 0.8 else t.MALE, rng.randint(26, 60), t.HEAD)
        members = [head]
        _add_children(rng, members, 0, _kid_count(rng))
        return members
    if kind == "couple":
        young = rng.random() < 0.4
        return _couple(rng, rng.randint(21, 32) if young else rng.randint(50, 86))
    members = _couple(rng, int(rng.triangular(24, 66, 38)) if kind == "nuclear" else rng.randint(26, 56))
    _add_children(rng, members, 0, _kid_count(rng) - (kind == "extended"))
    if kind == "extended":
        _add_parents(rng, members)
    return members


def _kid_count(rng: random.Random) -> int:
    return pick(rng.random(), _KIDS, _KIDS_CUM)


def _couple(rng: random.Random, husband_age: int) -> list[Person]:
    wife_age = max(18, husband_age - rng.randint(-2, 6))
    wife_heads = rng.random() < 0.18
    husband = Person(t.MALE, husband_age, t.HUSBAND if wife_heads else t.HEAD, spouse=0 if wife_heads else 1)
    wife = Person(t.FEMALE, wife_age, t.HEAD if wife_heads else t.WIFE, spouse=1 if wife_heads else 0)
    return [wife, husband] if wife_heads else [husband, wife]


def _add_children(rng: random.Random, members: list[Person], head: int, count: int) -> None:
    """Children of the head (and spouse), 22–39 years younger than the mother (20–45 than the father)."""
    spouse = members[head].spouse
    parents = [head] if spouse is None else [head, spouse]
    father = next((i for i in parents if members[i].sex == t.MALE), None)
    mother = next((i for i in parents if members[i].sex == t.FEMALE), None)
    base = min(members[i].age for i in parents)
    ages = sorted((base - rng.randint(22, 39) for _ in range(count)), reverse=True)
    for age in ages:
        if age >= 0:
            sex = t.MALE if rng.random() < _MALE_BIRTH_SHARE else t.FEMALE
            members.append(Person(sex, age, t.CHILD, father=father, mother=mother))


def _add_parents(rng: random.Random, members: list[Person]) -> None:
    """One or both parents of the head, living with the family (three generations)."""
    mother_age = members[0].age + rng.randint(22, 39)
    father_age = mother_age + rng.randint(-2, 6)
    both = rng.random() < 0.55
    first = len(members)
    if (both or rng.random() < 0.35) and father_age <= 95:
        members.append(Person(t.MALE, father_age, t.FATHER))
        members[0].father = len(members) - 1
    if (both or members[0].father is None) and mother_age <= 95:
        members.append(Person(t.FEMALE, mother_age, t.MOTHER))
        members[0].mother = len(members) - 1
    if len(members) - first == 2:
        members[first].spouse, members[first + 1].spouse = first + 1, first


def _prune(members: list[Person]) -> list[Person]:
    """Drop links to members cut off by trimming the chunk's last household."""
    n = len(members)
    for person in members:
        person.father = person.father if person.father is not None and person.father < n else None
        person.mother = person.mother if person.mother is not None and person.mother < n else None
        person.spouse = person.spouse if person.spouse is not None and person.spouse < n else None
    return members


# -- attributes ------------------------------------------------------------------------------------


def _household(rng: random.Random, members: list[Person], seed: int, chunk: int, index: int) -> Household:
    old = t.PROVINCE_BY_CODE[pick(rng.random(), _PROVINCE_CODES, t.PROVINCE_CUM)]
    ethnic_codes, ethnic_cum = t.ETHNIC_TABLES[old.zone]
    religion_codes, religion_cum = t.RELIGION_TABLES[old.region]
    commune, commune_name = rng.choice(t.COMMUNES_BY_PROVINCE[old.new_code])
    address = (f"Số {rng.randint(1, 399)} đường {rng.choice(t.STREETS)}, {commune_name}, "
               f"{t.NEW_PROVINCE_NAMES[old.new_code]}")
    file_number = f"{old.new_code}{(seed * 7_919 + chunk * 100_003 + index) % 10**10:010d}"
    household = Household(old.code, old.new_code, commune, address, file_number,
                          pick(rng.random(), ethnic_codes, ethnic_cum),
                          pick(rng.random(), religion_codes, religion_cum), members)
    names, names_cum = family_names(old.region, household.ethnic)
    for person in sorted(members, key=lambda p: -p.age):  # fathers before their children
        father = members[person.father] if person.father is not None else None
        person.family = father.family if father else pick(rng.random(), names, names_cum)
        _birth(rng, person, old.code)
        if father:
            person.home_town_province = father.home_town_province
        elif rng.random() > 0.8:
            person.home_town_province = pick(rng.random(), _PROVINCE_CODES, t.PROVINCE_CUM)
        else:
            person.home_town_province = person.birth_province
        young = person.dob_year >= YOUNG_FROM_YEAR
        middle, middle_cum = MIDDLE_TABLES[(person.sex, young)]
        person.middle = pick(rng.random(), middle, middle_cum)
        given, given_cum = GIVEN_TABLES[person.sex]
        person.given = pick(rng.random(), given, given_cum)
        while person.given == person.middle:  # "Minh Minh" is not a name parents give
            person.given = pick(rng.random(), given, given_cum)
        person.blood = pick(rng.random(), t.BLOOD_TYPES, t.BLOOD_CUM)
        person.marital = _marital(rng, person)
    return household


def _birth(rng: random.Random, person: Person, home: str) -> None:
    year = REFERENCE_DATE.year - person.age
    month = 1 + int(rng.random() * (REFERENCE_DATE.month - 1 if person.age == 0 else 12))
    day = 1 + int(rng.random() * _DAYS_IN_MONTH[month])
    person.dob_year, person.dob_month, person.dob_day = year, month, day
    if year < 1960:
        r = rng.random()
        if r < 0.03:
            person.dob_month = person.dob_day = None
        elif r < 0.05:
            person.dob_day = None
    same = rng.random() < _SAME_BIRTH_PROVINCE
    person.birth_province = home if same else pick(rng.random(), _PROVINCE_CODES, t.PROVINCE_CUM)


def _marital(rng: random.Random, person: Person) -> str:
    if person.spouse is not None:
        return t.MARRIED
    if person.relation in (t.FATHER, t.MOTHER):
        return t.WIDOWED
    if person.relation == t.CHILD or person.age < 30:
        return t.SINGLE
    if person.relation == t.HEAD and person.age < 60:
        return rng.choices((t.SINGLE, t.DIVORCED, t.WIDOWED), cum_weights=(55, 88, 100))[0]
    return rng.choices((t.SINGLE, t.DIVORCED, t.WIDOWED), cum_weights=(15, 40, 100))[0]


def _contacts(rng: random.Random, person: Person, seed: int, ordinal: int) -> None:
    """Phone, e-mail, old 9-digit ID and the current card; ``ordinal`` makes numbers unique in a run."""
    if person.age >= 18:
        if rng.random() < 0.9:
            space = len(t.MOBILE_PREFIXES) * 10**7  # 7,654,321 is coprime with it: a bijection on ordinals
            number = (ordinal * 7_654_321 + seed * 1_234_567) % space
            person.phone = f"{t.MOBILE_PREFIXES[number // 10**7]}{number % 10**7:07d}"
        if rng.random() < 0.2:
            domain = t.EMAIL_DOMAINS[ordinal % len(t.EMAIL_DOMAINS)]
            person.email = f"{fold(person.given)}.{fold(person.family)}{ordinal}@{domain}".replace(" ", "")
        if person.dob_year < 1995 and rng.random() < 0.6:
            person.old_id = f"{(ordinal * 387_420_489 + seed * 1_000_003) % 10**9:09d}"
    if person.age >= 14:
        _card(rng, person)


def _card(rng: random.Random, person: Person) -> None:
    """A chip card issued since 2021 (some since 2016), valid until age 25, 40 or 60, then for life."""
    birthday = date(person.dob_year, person.dob_month or 1, person.dob_day or 1)
    earliest = date(2021 if rng.random() < 0.8 else 2016, 1, 1)
    start = max(earliest, date(person.dob_year + 14, birthday.month, birthday.day))
    issued = start + timedelta(days=int(rng.random() * max(1, (REFERENCE_DATE - start).days)))
    person.card_issued = issued
    age_at_issue = issued.year - person.dob_year
    person.card_expires = next((date(person.dob_year + m, birthday.month, birthday.day)
                                for m in (25, 40, 60) if age_at_issue < m - 2), None)
