"""Reads of resident data by the database manager's own operators go into the exchange log before the answer leaves.

Every operator screen that shows resident data — the registry's reads and searches (:mod:`dancu.registry.disclosure`),
the sector-sync review queue (:mod:`dancu.sync.disclosure`), the citizens' correction queue
(:mod:`dancu.citizen.corrections.disclosure`) — reads, says whose data the answer shows and which of their fields
(:class:`Shown`), and calls :func:`disclose`, which durably writes the entries before the answer may leave; when
they cannot be written the read is refused (``LedgerUnavailable``: ``503 ledger_unavailable``) and nothing is
disclosed.  ``log`` is a function that durably appends one entry and returns its receipt (raising
``LedgerUnavailable``, or anything else, when it cannot); nothing here commits the caller's session.

An entry, as docs/ledger.md ("Operator reads") describes it:

* ``kind`` ``exchange`` — a disclosure like any other, so the resident's "who used my data" lists it and
  inspection counts it; ``client_system`` :data:`API` (an operator token) or :data:`CLI` (a command, whose user
  is self-declared) — the ``:`` never occurs in a connected system's X-Road identifier; ``end_user`` the
  operator's username; ``service`` the screen's (``registry.read``, ``sync.review``, ``citizen.corrections``…);
  ``purpose`` the operator's, else the screen's default; ``legal_basis`` :data:`LEGAL_BASIS`; ``result`` ``ok``;
* ``personal_ids`` and ``fields_disclosed``: whose data and which fields.  An answer that shows the same fields of
  everyone in it (a record, a search page) is one entry; one that shows different fields of different residents
  (a queue page) is one entry per set of fields, naming the residents shown exactly those — never a resident
  with a field the answer did not show them.  The entries of one answer share its ``correlation_id``, its
  ``request_hash`` (SHA-256 of the parameters, with the purpose, as sorted JSON) and its ``response_hash``
  (SHA-256 of the JSON answer, byte for byte what is sent), and are written in order, each durable before the
  next (a failure part-way refuses the answer: the entries already written stay, a read logged and not shown
  rather than shown and not logged);
* an answer that shows no resident's data (an empty page, an unknown number) writes no entry.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import orjson
import psycopg

from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.ledger.domain import EntryKind, LedgerEntry, Receipt
from dancu.ledger.errors import LedgerUnavailable
from dancu.ledger.writer import LedgerWriter

OPERATOR_PREFIX = "operator:"  # the client systems of the database manager's own operators
API = OPERATOR_PREFIX + "api"
CLI = OPERATOR_PREFIX + "cli"
DEFAULT_PURPOSE = "quản lý dân cư"
LEGAL_BASIS = "Luật Căn cước 2023"
MAX_PURPOSE = 200

Log = Callable[[LedgerEntry], Receipt]
T = TypeVar("T")


@dataclass(frozen=True)
class Reader:
    """Who reads (the operator's username), through which client system, and why."""

    username: str
    client_system: str = API
    purpose: str = DEFAULT_PURPOSE

    @classmethod
    def of(cls, username: str, purpose: str | None, client_system: str = API,
           default: str = DEFAULT_PURPOSE) -> Reader:
        return cls(username, client_system, (purpose or "").strip() or default)


@dataclass(frozen=True)
class Disclosed(Generic[T]):
    """An answer that may leave: its JSON (the bytes hashed into the entries) and the entries' seqs, in the order
    written (empty: nothing disclosed, nothing logged)."""

    answer: T
    body: bytes
    seqs: tuple[int, ...] = ()

    @property
    def seq(self) -> int | None:
        """The first entry's seq (an answer of one entry: its entry), None when nothing was logged."""
        return self.seqs[0] if self.seqs else None


@dataclass
class Shown:
    """Whose data an answer shows and which of their fields, gathered item by item in the answer's order.

    ``order`` ranks fields (the record's order); a resident's fields are listed in it, then any others in the
    order first shown — so two residents shown the same fields have the same tuple, whatever the items' order.
    """

    order: Sequence[str] = ()
    _fields: dict[str, dict[str, None]] = field(default_factory=dict, init=False, repr=False)

    def add(self, personal_ids: Iterable[str], fields: Iterable[str]) -> None:
        """``personal_ids`` (one resident: the number it holds now, then an older one the answer shows) were
        shown ``fields``."""
        names = list(fields)
        for personal_id in personal_ids:
            self._fields.setdefault(personal_id, {}).update(dict.fromkeys(names))

    def __bool__(self) -> bool:
        return bool(self._fields)

    def groups(self) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        """(personal IDs, fields) per set of fields, in the order the first resident of each was shown."""
        rank = {name: i for i, name in enumerate(self.order)}
        out: dict[tuple[str, ...], list[str]] = {}
        for personal_id, shown in self._fields.items():
            key = tuple(sorted(shown, key=lambda name: rank.get(name, len(rank))))  # stable: ties keep their order
            out.setdefault(key, []).append(personal_id)
        return [(tuple(ids), fields) for fields, ids in out.items()]


def is_operator(client_system: str) -> bool:
    return client_system.startswith(OPERATOR_PREFIX)


def disclose(reader: Reader, log: Log, service: str, request: dict[str, Any], answer: T, body: bytes,
             started: float, shown: Shown) -> Disclosed[T]:
    """Write the answer's entries (see the module's docstring), then let it go; ``started`` is
    ``time.perf_counter()`` when the read began."""
    correlation_id = uuid.uuid4().hex
    request_hash = hashlib.sha256(orjson.dumps({**request, "purpose": reader.purpose},
                                               option=orjson.OPT_SORT_KEYS)).digest()
    response_hash = hashlib.sha256(body).digest()
    latency_ms = int((time.perf_counter() - started) * 1000)
    seqs = []
    for personal_ids, fields in shown.groups():
        item = LedgerEntry(
            kind=EntryKind.EXCHANGE, client_system=reader.client_system, service=service, purpose=reader.purpose,
            result="ok", correlation_id=correlation_id, end_user=reader.username, legal_basis=LEGAL_BASIS,
            request_hash=request_hash, response_hash=response_hash, latency_ms=latency_ms,
            personal_ids=personal_ids, fields_disclosed=fields)
        try:
            receipt = log(item)
        except LedgerUnavailable:
            raise
        except Exception as cause:  # whatever the writer failed with, the answer does not leave
            raise LedgerUnavailable("Không ghi được nhật ký chia sẻ; yêu cầu bị từ chối.",
                                    "The exchange log could not be written; the request is refused.") from cause
        seqs.append(receipt.seq)
    return Disclosed(answer, body, tuple(seqs))


# -- commands (client system operator:cli) ------------------------------------------------------------------------


def ledger_writer(database: Database) -> LedgerWriter:
    """A command's exchange-log writer (started by ``with``)."""
    url = libpq_url(database.url)
    return LedgerWriter(lambda: psycopg.connect(url))


def login() -> str:
    """Who runs the command, when ``--actor`` does not say."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment nor in the password database
        return f"uid:{os.getuid()}"


def cli_reader(actor: str | None, purpose: str | None, default: str = DEFAULT_PURPOSE) -> Reader:
    return Reader.of(actor or login(), purpose, CLI, default)


ACTOR_HELP = "Who is reading (the exchange log's end user; default: your login)."


def purpose_help(default: str = DEFAULT_PURPOSE) -> str:
    return f"Why (exchange log; default '{default}')."
