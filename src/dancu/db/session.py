"""Unit of work: the one transaction boundary of a request or a job."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker


class UnitOfWork:
    """Opens a session; commits only when told to, rolls back otherwise.

    Services receive the session and never commit; the request or job that owns the
    unit of work decides.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self.session: Session | None = None

    def __enter__(self) -> Session:
        self.session = self._sessions()
        return self.session

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.session is not None
        try:
            if exc_type is None:
                self.session.commit()
            else:
                self.session.rollback()
        finally:
            self.session.close()
