"""STUB — to be replaced by the catalogues work."""
from sqlalchemy.orm import Session


def load_packaged_catalogs(session: Session) -> None:
    return None
