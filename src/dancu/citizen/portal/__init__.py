"""The public-service portal (Cổng dịch vụ công) pages where a citizen reads their own record.

Two ways to a signed-in session: accounts issued by the portal itself (:mod:`.accounts`) and accounts of the
electronic identification system (VNeID, OpenID Connect, :mod:`dancu.citizen.eid`). What a session may see
depends on its assurance level (:mod:`.levels`).
"""
