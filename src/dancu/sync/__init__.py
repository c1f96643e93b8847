"""Sector synchronisation (đồng bộ dữ liệu chuyên ngành): enrich residents from sector databases.

Sources declare how their files map to resident fields (``sources``); files are streamed in chunks
(``readers``), normalised in pure code (``matching``), staged with ``COPY`` and matched, recorded and
applied with set-based SQL (``repository``), one transaction per chunk with the job checkpoint (``jobs``).
Conflicts wait in a review queue (``service``).  See docs/sync.md.
"""
