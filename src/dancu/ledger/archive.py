"""Retention: archive closed months to files, and drop partitions past retention once archived.

Never commits: the caller owns the transaction (the CLI commits once per command).  Pruning stores the
tree's frontier at the prune point in ``ledger_state``, so ``verify`` continues from there and the
whole tree stays verifiable: archives (offline) + remaining rows (``dancu log verify``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.orm import Session

from dancu.ledger import archive_file, merkle, repository, service
from dancu.ledger import archive_repository as archives
from dancu.ledger.domain import TreeHead, canonical_bytes
from dancu.ledger.errors import ArchiveError
from dancu.ledger.signing import Signer


class RetentionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DANCU_LEDGER_", env_file=".env", extra="ignore")

    retention_years: int = 5
    archive_dir: Path | None = None  # default: data_dir/ledger-archive


@dataclass(frozen=True)
class Archived:
    month: date
    first_seq: int
    end_seq: int
    path: Path


def _error(vi: str, en: str) -> ArchiveError:
    return ArchiveError(vi, en)


def frontier_at(session: Session, size: int) -> merkle.Frontier:
    """The tree's right edge at ``size``: from the nearest signed head at or below it, plus stored leaves."""
    row = archives.head_frontier_at_or_below(session, size)
    frontier = merkle.Frontier.from_bytes(*row) if row else merkle.Frontier()
    leaves = repository.leaf_hashes(session, frontier.size, size)
    if len(leaves) != size - frontier.size:
        raise _error("Thiếu mục nhật ký trước kỳ lưu trữ.", f"entries missing before seq {size}; run verify")
    frontier.extend(leaves)
    return frontier


def _lines(session: Session, month: date, first: int, frontier: merkle.Frontier,
           nodes: list[tuple[int, int, bytes]]) -> Iterator[bytes]:
    """The partition's canonical lines in seq order, each checked against its stored leaf hash."""
    for expected, row in enumerate(archives.partition_rows(session, month), first):
        recorded, stored = repository.recorded_from_row(row)
        line = canonical_bytes(recorded)
        if recorded.seq != expected or merkle.leaf_hash(line) != stored:
            raise _error("Nhật ký bị sửa; hãy chạy 'dancu log verify'.",
                         f"seq {expected} does not match its stored leaf hash; run 'dancu log verify'")
        frontier.append_recording(stored, service.NODE_LEVEL, nodes)
        yield line


def archive_month(session: Session, signer: Signer, directory: Path, month: date) -> Archived | None:
    bounds = archives.partition_bounds(session, month)
    if bounds is None:
        return None
    first, end = bounds
    if first != archives.archived_end(session):
        raise _error("Phải lưu trữ các tháng theo thứ tự.", f"{month:%Y-%m} starts at seq {first}; the archives "
                     f"end at {archives.archived_end(session)}: archive earlier months first")
    start = frontier_at(session, first)
    frontier = merkle.Frontier(start.size, start.nodes)
    nodes: list[tuple[int, int, bytes]] = []

    def finish() -> TreeHead:
        if frontier.size != end:
            raise _error("Thiếu mục trong kỳ lưu trữ.", f"{month:%Y-%m}: seq {first}..{end - 1} is not complete")
        head = signer.sign(TreeHead(end, frontier.root(), int(time.time() * 1000), frontier=frontier.to_bytes()))
        existing = repository.head_at(session, end)
        if existing is not None and existing.root_hash != head.root_hash:
            raise _error("Gốc cây không khớp.", f"the signed head of size {end} has another root; run verify")
        repository.save_head(session, head)
        repository.save_nodes(session, nodes)  # proofs over this month keep working once it is pruned
        return existing or head

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"ledger-{month:%Y-%m}.jsonl.gz"
    lines = _lines(session, month, first, frontier, nodes)
    digest, head = archive_file.write(path, f"{month:%Y-%m}", start, end, lines, finish)
    archives.save_archive(session, month, first, end, path.name, digest, head.root_hash)
    return Archived(month, first, end, path)


def archive(session: Session, signer: Signer, directory: Path, before: date) -> list[Archived]:
    """Archive every month before ``before`` (and before the current month) not yet archived, oldest first."""
    now = datetime.now(UTC)
    limit = min(before, date(now.year, now.month, 1))
    done = archives.archived_months(session)
    out = []
    for month, _name in archives.partitions(session):
        if month < limit and month not in done:
            archived = archive_month(session, signer, directory, month)
            if archived:
                out.append(archived)
    return out


def _retention_start(today: date, years: int) -> date:
    """The first month kept: months before it are past retention."""
    return date(today.year - years, today.month, 1)


def prune(session: Session, directory: Path, public_key: bytes, years: int, today: date | None = None
          ) -> list[Archived]:
    """Drop, oldest first, the partitions of archived months past retention, each after verifying its file."""
    keep_from = _retention_start(today or datetime.now(UTC).date(), years)
    out = []
    for month, first, end, file_name, digest, end_root in archives.archives_before(session, keep_from):
        path = directory / file_name
        _check_archive(session, path, public_key, first, bytes(digest), bytes(end_root))
        head = repository.head_at(session, end)
        assert head is not None  # checked by _check_archive
        archives.drop_partition(session, month, end, head.frontier)
        out.append(Archived(month, first, end, path))
    return out


def _check_archive(session: Session, path: Path, public_key: bytes, first: int, digest: bytes, root: bytes) -> None:
    pruned = archives.pruned_size(session)
    if first != pruned:
        raise _error("Phải xoá các tháng theo thứ tự.", f"{path.name} starts at {first}, the log at {pruned}")
    if not path.exists() or archive_file.file_sha256(path) != digest:
        raise _error("Tệp lưu trữ bị thiếu hoặc đã đổi.", f"{path} is missing or is not the file that was written")
    check = archive_file.verify(path, public_key)
    head = repository.head_at(session, check.end_seq)
    if not check.ok or head is None or head.root_hash != root or check.end is None or check.end.root_hash != root:
        raise _error("Tệp lưu trữ không kiểm chứng được.", f"{path} does not verify: {'; '.join(check.findings)}")
