"""STUB — replaced by the synthetic population loader."""
from dancu.db import Database


def ensure_population(database: Database, residents: int, seed: int) -> None:
    return None
