"""The public-service portal (Cổng dịch vụ công) pages where a citizen reads their own record.

Accounts issued by the portal itself live in :mod:`.accounts`.  Step 2 adds accounts of the electronic
identification system (VNeID, OpenID Connect): a second way to reach ``stage = signed_in`` for a
personal ID, plugged in beside ``accounts.login`` (see docs/citizen.md, "Step 2").
"""
