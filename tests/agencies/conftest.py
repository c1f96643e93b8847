from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import pytest

from dancu.agencies.settings import get_agency_settings


@pytest.fixture(autouse=True, scope="session")
def token_signing_key() -> Iterator[None]:
    """The live server signs tokens with a throw-away key, not one written into the work tree."""
    settings = get_agency_settings()
    before = settings.token_signing_key
    settings.token_signing_key = base64.b64encode(os.urandom(32)).decode()
    yield
    settings.token_signing_key = before
