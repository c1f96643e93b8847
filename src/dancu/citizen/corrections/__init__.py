"""Correction requests (yêu cầu điều chỉnh thông tin): a citizen asks, the database manager answers."""
