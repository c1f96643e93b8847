"""An entry prepared before it has a place in the log, so that the writer's per-entry work under the
seq lock is a few byte concatenations and one SHA-256.

The canonical bytes (see :mod:`dancu.ledger.domain`) of an entry differ between positions only in
``recorded_at`` and ``seq``; with keys sorted they fall between fixed pieces::

    head + ts + middle + seq + tail

and the ``COPY ... FROM STDIN`` text row likewise is ``seq \\t ts \\t body \\\\x leaf_hex \\n``.
Tests check both against the reference renderings on generated entries.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from dancu.db.prepared import text_array
from dancu.ledger.domain import FORMAT_VERSION, LedgerEntry

_SORT = orjson.OPT_SORT_KEYS
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


@dataclass(slots=True)  # not frozen: a frozen __init__ costs a microsecond per entry
class Prepared:
    entry: LedgerEntry
    head: bytes  # b'{"client_system":...,"purpose":...,"recorded_at":"'
    middle: bytes  # b'","relaying_platform":...,"result":...,"seq":'
    tail: bytes  # b',"service":...,"v":1}'
    body: bytes  # the COPY text columns kind .. correlation_id, tab-separated, ending with a tab

    def leaf_hash(self, seq: int, ts: bytes) -> bytes:
        return hashlib.sha256(b"\x00" + self.head + ts + self.middle + str(seq).encode() + self.tail).digest()

    def canonical(self, seq: int, ts: bytes) -> bytes:
        return self.head + ts + self.middle + str(seq).encode() + self.tail


def prepare(e: LedgerEntry) -> Prepared:
    kind, request, response = str(e.kind), e.request_hash.hex(), e.response_hash.hex()
    # One rendering with empty recorded_at and seq 0, cut at those two keys: in JSON text an unescaped
    # quote only delimits, so these markers cannot occur inside a value.
    whole = orjson.dumps({
        "client_system": e.client_system, "correlation_id": e.correlation_id, "end_user": e.end_user,
        "error_code": e.error_code, "fields_disclosed": e.fields_disclosed, "kind": kind,
        "latency_ms": e.latency_ms, "legal_basis": e.legal_basis, "personal_ids": e.personal_ids,
        "purpose": e.purpose, "recorded_at": "", "relaying_platform": e.relaying_platform,
        "request_hash": request, "response_hash": response, "result": e.result,
        "seq": 0, "service": e.service, "v": FORMAT_VERSION}, option=_SORT)
    cut = whole.index(_TIME_MARK) + len(_TIME_MARK) - 1
    seq_at = whole.index(_SEQ_MARK, cut)
    return Prepared(e, whole[:cut], whole[cut:seq_at + len(_SEQ_MARK) - 2], whole[seq_at + len(_SEQ_MARK) - 1:],
                    copy_body(e, kind, request, response))


_TIME_MARK = b',"recorded_at":""'
_SEQ_MARK = b',"seq":0,'


def _text(value: str | None) -> str:
    if value is None:
        return "\\N"
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def _array(values: tuple[str, ...]) -> str:
    return _text(text_array(values))


def copy_body(e: LedgerEntry, kind: str, request: str, response: str) -> bytes:
    """Columns ``kind`` .. ``correlation_id`` of a COPY text row (see repository.ENTRY_COLUMNS)."""
    columns = (
        kind, _text(e.client_system), _text(e.relaying_platform), _text(e.end_user), _text(e.service),
        _text(e.purpose), _text(e.legal_basis), _array(e.personal_ids), _array(e.fields_disclosed),
        _text(e.result), _text(e.error_code), "\\\\x" + request, "\\\\x" + response,
        str(e.latency_ms), _text(e.correlation_id))
    return ("\t".join(columns) + "\t").encode()


def copy_row(prepared: Prepared, seq: int, ts: bytes, leaf: bytes) -> bytes:
    return b"%d\t%s\t%s\\\\x%s\n" % (seq, ts, prepared.body, leaf.hex().encode())
