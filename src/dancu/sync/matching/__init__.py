"""Pure matching logic: normalising a sector record and the keys its name and date are compared by.

Nothing here touches a database; the set-based comparison itself runs in SQL (``sync.repository``) on the
columns these functions compute, and the SQL function
``sync_name_loose`` (migration 0005) is the twin of :func:`names.loose_key`.
"""
