"""The shared rate table for the tests of its two regions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dancu.policy.rate import RateTable


@pytest.fixture
def table() -> Iterator[RateTable]:
    made = RateTable.create()
    yield made
    made.close()
