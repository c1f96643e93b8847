"""Resumable, idempotent long jobs: one row per job, with a checkpoint committed with each unit of work."""
