"""``GET /exchange/v1/sandbox/residents``: the sandbox's synthetic residents, for a system to test against with
its **test** credentials (what to send to verify, retrieve, batch verify, verify jobs and enrichment push).

No real person is listed (see ``dancu.agencies.sandbox``).  The listing is an exchange like any other: logged
before it leaves (service ``sandbox_residents``, the personal IDs and fields listed); a production credential
is refused (``test_credentials_required``) — production never sees the sandbox.
"""

from __future__ import annotations

import orjson

from dancu.exchange import repository
from dancu.exchange.calls import Call, refuse
from dancu.exchange.errors import TestCredentialsRequired
from dancu.exchange.runtime import Runtime
from dancu.policy.domain import Environment

SERVICE = "sandbox_residents"
FIELDS = ("full_name", "date_of_birth", "sex", "permanent_province", "permanent_commune", "permanent_address")
NOTE = ("Synthetic residents of the test environment (no real person). Use them with test credentials only; "
        "production credentials never see them.")


async def residents(rt: Runtime, call: Call, after: int, limit: int) -> bytes:
    if call.environment != Environment.TEST:
        error = TestCredentialsRequired()
        await refuse(rt, call, error, purpose=None)
        raise error
    async with rt.pool.connection() as conn:
        page = await repository.sandbox_residents(conn, after, limit)
    answer = {"residents": page, "next_after": page[-1]["cursor"] if len(page) == limit else None, "note": NOTE,
              "correlation_id": call.correlation_id}
    payload = orjson.dumps(answer)
    receipt = await rt.ledger.append(call.entry(
        result="ok", purpose="sandbox_test_data", personal_ids=tuple(r["personal_id"] for r in page),
        fields=FIELDS if page else (), response=payload))
    return orjson.dumps({**answer, "log_seq": receipt.seq})
