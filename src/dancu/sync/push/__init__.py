"""Enrichment pushes (đẩy dữ liệu làm giàu): a connected system's batch of sector records, sent through the
exchange API (``POST /exchange/v1/enrichment``), becomes an ordinary synchronisation job.

``domain`` checks a batch against its source's columns and writes it as canonical JSON Lines (the same records
give the same bytes, so the same SHA-256 and the same job); ``spool`` keeps those bytes under the data folder,
named by their hash, and runs them through :func:`dancu.sync.jobs.run`; ``repository`` records which system
pushed which batch (only that system may read the job) and reads a job back for the answer.
See docs/sync.md ("Pushes through the exchange API").
"""
