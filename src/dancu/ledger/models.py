"""Tables of the exchange log.  ``ledger_entry`` is range-partitioned by month of ``recorded_at``; the
partitions live in the ``ledger_partitions`` schema and are created by ``ledger_ensure_partition``."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from dancu.db.base import Base

PARTITION_SCHEMA = "ledger_partitions"


class LedgerEntryRow(Base):
    __tablename__ = "ledger_entry"
    __table_args__ = (  # lookups by seq use the primary key, which leads with it (migration 0018)
        Index("ix_ledger_entry_personal_ids", "personal_ids", postgresql_using="gin"),
        Index("ix_ledger_entry_client_system_recorded_at", "client_system", "recorded_at"),
        Index("ix_ledger_entry_recorded_at", "recorded_at", postgresql_using="brin"),
        {"postgresql_partition_by": "RANGE (recorded_at)"},
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    client_system: Mapped[str] = mapped_column(Text)
    relaying_platform: Mapped[str | None] = mapped_column(Text)
    end_user: Mapped[str | None] = mapped_column(Text)
    service: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    personal_ids: Mapped[list[str]] = mapped_column(ARRAY(Text))
    fields_disclosed: Mapped[list[str]] = mapped_column(ARRAY(Text))
    result: Mapped[str] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(Text)
    request_hash: Mapped[bytes] = mapped_column(LargeBinary)
    response_hash: Mapped[bytes] = mapped_column(LargeBinary)
    latency_ms: Mapped[int] = mapped_column(Integer)
    correlation_id: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerTreeHeadRow(Base):
    __tablename__ = "ledger_tree_head"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary)
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[str] = mapped_column(Text)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    frontier: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerStateRow(Base):
    """The one row every writer process locks to take the next seq numbers; also the prune point."""

    __tablename__ = "ledger_state"
    __table_args__ = (CheckConstraint("id = 1", name="ck_ledger_state_single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    next_seq: Mapped[int] = mapped_column(BigInteger)
    last_recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pruned_size: Mapped[int] = mapped_column(BigInteger)
    pruned_frontier: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerArchiveRow(Base):
    """One closed month written to an archive file (and, once past retention, its partition dropped)."""

    __tablename__ = "ledger_archive"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    first_seq: Mapped[int] = mapped_column(BigInteger)
    end_seq: Mapped[int] = mapped_column(BigInteger)
    file_name: Mapped[str] = mapped_column(Text)
    file_sha256: Mapped[bytes] = mapped_column(LargeBinary)
    end_root: Mapped[bytes] = mapped_column(LargeBinary)
    archived_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    pruned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LedgerNodeRow(Base):
    """Root of the complete subtree over leaves [idx·2^level, (idx+1)·2^level), cached for proofs."""

    __tablename__ = "ledger_node"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)
