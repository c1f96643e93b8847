"""Bulk writes with psycopg COPY."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

BLOCK_BYTES = 256 * 1024


def copy_text(cur: psycopg.Cursor[Any], table: str, columns: Iterable[str], parts: Iterable[str]) -> None:
    """COPY text-format rows into ``table``, sent in ~256 kB blocks as ``parts`` are produced, so the server
    works while the caller formats the rest."""
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        block: list[str] = []
        size = 0
        for part in parts:
            block.append(part)
            size += len(part)
            if size >= BLOCK_BYTES:
                copy.write("".join(block))
                block, size = [], 0
        if block:
            copy.write("".join(block))
