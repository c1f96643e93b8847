"""Serving: the ASGI app built from settings (``uvicorn dancu.server:app``) and :func:`run`, which
``dancu serve`` calls with the options the exchange's hot path was measured with.

``app`` is built on first access (module ``__getattr__``), so importing :func:`run` opens no database.

Several workers on Linux: each worker process serves a listening socket of its own, all bound to the same
address with ``SO_REUSEPORT``, so the kernel spreads new connections over the workers by a hash of each
connection's addresses (:class:`Supervisor`).  uvicorn's own supervisor shares one socket among its workers, and
the kernel then hands most connections to whichever worker waited last: on the benchmark 7 and 57 of 64 went to
the two workers, one saturated while the other idled.  The sockets are bound and kept by the supervising process,
one per worker slot: a worker that dies is replaced on the same socket, so the connections queued for it wait
for the replacement instead of being reset.  Where ``SO_REUSEPORT`` does not balance (macOS, Windows), ``dancu
serve`` runs uvicorn's own multi-process supervisor, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from functools import cache
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType
from typing import Any, cast

from fastapi import FastAPI

from dancu.policy.rate import RateTable, use_table

log = logging.getLogger(__name__)
BACKLOG = 4096
GRACE_SECONDS = 30  # a stopping worker finishes its requests in flight for at most this long, then cancels them
STARTUP_FAILURE = 3  # uvicorn's exit status for a worker whose application could not start
READY_SECONDS = 120  # a worker not serving this long after it was started is killed (and replaced)


@cache
def _app() -> FastAPI:
    from dancu.app import create_app
    from dancu.config import get_settings
    from dancu.db import get_database
    from dancu.kit.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    app = create_app(get_database())
    _tune_gc()
    return app


def _tune_gc() -> None:
    """Keep the cyclic garbage collector off the request path.

    The app's own objects (routes, schemas, models: a few hundred thousand, alive for the whole process) are
    moved out of the collector's sight, and collections start after 20,000 net allocations instead of 700.
    A verify request's garbage is freed by reference counting anyway; what the default settings added was a
    collection every few requests and, now and then, a full one over the whole heap: tens of milliseconds
    on the 99th percentile.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def __getattr__(name: str) -> Any:
    if name == "app":
        return _app()
    raise AttributeError(name)


def _options(host: str, port: int) -> dict[str, Any]:
    """uvicorn with uvloop and httptools (C event loop and HTTP parser, when installed: they are dependencies on
    Linux and macOS), no access log (every exchange is in the exchange log already)."""
    return {"app": "dancu.server:app", "host": host, "port": port, "log_config": None, "access_log": False,
            "loop": "auto", "http": HTTP, "backlog": BACKLOG, "timeout_graceful_shutdown": GRACE_SECONDS}


def _balancing_option() -> int | None:
    """The socket option under which the kernel balances connections over sockets bound to one address."""
    if sys.platform.startswith("linux"):
        return getattr(socket, "SO_REUSEPORT", None)
    return getattr(socket, "SO_REUSEPORT_LB", None)  # FreeBSD ≥ 12; elsewhere SO_REUSEPORT does not balance


REUSE_PORT = _balancing_option()


def run(host: str, port: int, workers: int) -> None:
    """Serve until SIGTERM or SIGINT: in this process for one worker, else under :class:`Supervisor` (uvicorn's
    own supervisor where the kernel cannot balance connections over sockets)."""
    import uvicorn

    if workers > 1 and REUSE_PORT is not None:
        try:
            supervisor = Supervisor(host, port, workers, REUSE_PORT)
        except OSError as error:  # address in use or not ours to bind: logged, exit status 3, as uvicorn does
            log.error("cannot listen", extra={"host": host, "port": port, "error": str(error)})
            raise SystemExit(STARTUP_FAILURE) from None
        code = supervisor.run()
        if code:
            raise SystemExit(code)
        return
    if workers == 1:
        _exit_normally_on_sigterm()
    uvicorn.run(**_options(host, port), workers=workers)


def _exit_normally_on_sigterm() -> None:
    """uvicorn stops gracefully on SIGTERM and then raises the signal again under the handler found before it.
    Python's default handler would end the process there without running ``atexit``, and the embedded
    PostgreSQL, which the wheel stops at exit, would keep running after ``dancu up``; this one ends it as a
    normal exit (status 0, as the supervisor's)."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))


def bind_listeners(host: str, port: int, count: int, option: int) -> list[socket.socket]:
    """``count`` listening sockets on one address, each with ``option`` (``SO_REUSEPORT``) set before its bind.

    An address already in use fails here, as one plain bind would: a probe without the option goes first,
    because sockets that all carry the option would otherwise join a group an older server of the same user
    left listening, and quietly share its connections.  Port 0: the port the probe was given.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        port = int(probe.getsockname()[1])
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, option, 1)
            sock.bind((host, port))
            sock.listen(BACKLOG)
            sock.set_inheritable(True)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _serve_worker(options: dict[str, Any], sock: socket.socket, ready: Connection,
                  rate_table: RateTable | None = None) -> None:
    """A worker process: uvicorn serving ``sock``; ``ready`` is told once it accepts connections.  Its rate
    buckets are in the supervisor's ``rate_table`` (see :mod:`dancu.policy.rate`; None, as from a supervisor
    of an earlier release replacing its workers after an upgrade: buckets of its own)."""
    import uvicorn

    from dancu.config import get_settings
    from dancu.kit.logs import configure_logging

    use_table(rate_table)  # before the application builds its runtime

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    server = uvicorn.Server(uvicorn.Config(**options))

    def tell_ready() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        with contextlib.suppress(OSError):
            ready.send(server.started)
            ready.close()

    threading.Thread(target=tell_ready, name="ready", daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C before uvicorn's handlers are in place
        server.run(sockets=[sock])


class _Slot:
    """One worker position: its listening socket (kept for the supervisor's life) and its current process."""

    __slots__ = ("backoff", "due", "process", "ready", "replacing", "serving", "sock", "started")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.process: BaseProcess | None = None
        self.ready: Connection | None = None  # the supervisor's end of the readiness pipe, until it is told
        self.serving = False
        self.started = 0.0
        self.due = 0.0  # when a replacement may start (backing off a worker that keeps dying)
        self.backoff = 0.0
        self.replacing = False  # stopped on purpose (SIGHUP): replace at once, no error


class Supervisor:
    """``workers`` uvicorn processes, each on its own ``SO_REUSEPORT`` socket (see the module's docstring).

    - SIGTERM, SIGINT: graceful stop — the listening sockets are closed first (new connections are refused,
      not queued), then each worker finishes its requests in flight (at most :data:`GRACE_SECONDS`), writes
      what its exchange-log writer holds and exits; a worker still running after that is killed.
    - a worker that exits, for any reason, is replaced on its socket: at once if it had served for a minute,
      else after 1, 2, 4 … 30 s.  A worker whose application cannot start (exit status 3: e.g. the database
      refuses it) stops the whole server with that status, as uvicorn does: a supervisor of the service
      (systemd, Kubernetes) sees the failure instead of an endless restart loop.
    - SIGHUP: every worker is replaced, one after another, each replacement serving before the next worker
      is stopped.
    """

    def __init__(self, host: str, port: int, workers: int, option: int) -> None:
        self.host = host
        self.slots = [_Slot(sock) for sock in bind_listeners(host, port, workers, option)]
        self.port = int(self.slots[0].sock.getsockname()[1])
        self.options = _options(host, self.port)
        self.rate_table = RateTable.create()  # every worker's rate buckets, kept across replacements
        self.exit_code = 0
        self._context = multiprocessing.get_context("spawn")
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_write.setblocking(False)
        self._signals: list[int] = []
        self._stopping = False
        self._reload: list[_Slot] = []

    # -- the loop ---------------------------------------------------------------------------------------
    def run(self) -> int:
        """Serve until stopped; the exit status (0, or 3 when a worker's application could not start)."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        log.info("serving", extra={"host": self.host, "port": self.port, "workers": len(self.slots),
                                   "listeners": "one SO_REUSEPORT socket per worker", "pid": os.getpid()})
        try:
            for slot in self.slots:
                self._start(slot)
            while not self._stopping:
                self._watch(1.0)
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._wake_read.close()
            self._wake_write.close()
            self.rate_table.close()
        return self.exit_code

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals.append(signum)  # handled by the loop: no logging or process work inside a signal handler
        with contextlib.suppress(OSError):
            self._wake_write.send(b"\0")

    def _watch(self, timeout: float) -> None:
        waits: list[Any] = [self._wake_read]
        for slot in self.slots:
            if slot.process is not None:
                waits.append(slot.process.sentinel)
            if slot.ready is not None:
                waits.append(slot.ready)
        ready = wait(waits, timeout)
        if self._wake_read in ready:
            with contextlib.suppress(OSError):
                self._wake_read.recv(4096)
        self._handle_signals()
        now = time.monotonic()
        for slot in self.slots:
            self._check_ready(slot, now)
            if slot.process is not None and not slot.process.is_alive():
                self._exited(slot, now)
            if slot.process is None and not self._stopping and now >= slot.due:
                self._start(slot)
        self._continue_reload()

    def _handle_signals(self) -> None:
        while self._signals:
            signum = self._signals.pop(0)
            if signum == signal.SIGHUP:
                log.info("SIGHUP: replacing every worker, one after another")
                self._reload = [slot for slot in self.slots if slot not in self._reload] + self._reload
            else:
                log.info("stopping", extra={"signal": signal.Signals(signum).name})
                self._stopping = True

    # -- workers ----------------------------------------------------------------------------------------
    def _start(self, slot: _Slot) -> None:
        ours, theirs = self._context.Pipe(duplex=False)
        index = self.slots.index(slot)
        process = self._context.Process(target=_serve_worker,
                                        args=(self.options, slot.sock, theirs, self.rate_table),
                                        name=f"dancu-worker-{index}")
        process.start()
        theirs.close()
        slot.process, slot.ready, slot.serving, slot.started = process, ours, False, time.monotonic()
        log.info("worker started", extra={"worker": index, "pid": process.pid})

    def _check_ready(self, slot: _Slot, now: float) -> None:
        if slot.ready is None or slot.process is None:
            return
        told: bool | None = None
        with contextlib.suppress(EOFError, OSError):
            if slot.ready.poll():
                told = bool(slot.ready.recv())
        if told is None and not slot.process.is_alive():
            told = False
        if told is not None:
            slot.ready.close()
            slot.ready, slot.serving = None, told
            if told:
                log.info("worker serving", extra={"worker": self.slots.index(slot), "pid": slot.process.pid})
        elif now - slot.started > READY_SECONDS:
            log.error("worker not serving in time; killing it",
                      extra={"worker": self.slots.index(slot), "pid": slot.process.pid})
            slot.process.kill()

    def _exited(self, slot: _Slot, now: float) -> None:
        process = slot.process
        assert process is not None
        process.join()
        code, index = process.exitcode, self.slots.index(slot)
        if slot.ready is not None:
            slot.ready.close()
        slot.process, slot.ready = None, None
        if self._stopping:
            return
        if code == STARTUP_FAILURE:
            log.error("worker could not start the application; stopping the server",
                      extra={"worker": index, "pid": process.pid, "exitcode": code})
            self.exit_code, self._stopping = STARTUP_FAILURE, True
            return
        if slot.replacing:
            slot.replacing, slot.backoff, slot.due = False, 0.0, now
            return
        served = slot.serving and now - slot.started >= 60
        slot.backoff = 0.0 if served else min(30.0, max(1.0, slot.backoff * 2))
        slot.due = now + slot.backoff
        log.error("worker exited; replacing it", extra={"worker": index, "pid": process.pid, "exitcode": code,
                                                         "restart_in_s": slot.backoff})

    def _continue_reload(self) -> None:
        """SIGHUP: stop the next worker once every other one is serving (its replacement included)."""
        if not self._reload or self._stopping:
            return
        if any(slot.process is None or not slot.serving or slot.replacing for slot in self.slots):
            return
        slot = self._reload.pop(0)
        assert slot.process is not None
        slot.replacing = True
        slot.process.terminate()

    def _stop_all(self) -> None:
        """Refuse new connections, then let every worker finish (SIGTERM) within the grace period."""
        self._stopping = True
        for slot in self.slots:
            slot.sock.close()
        live = [slot.process for slot in self.slots if slot.process is not None and slot.process.is_alive()]
        for process in live:
            process.terminate()
        deadline = time.monotonic() + GRACE_SECONDS + 10
        for process in live:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.error("worker still running after the grace period; killing it", extra={"pid": process.pid})
                process.kill()
                process.join()
        for slot in self.slots:
            if slot.ready is not None:
                slot.ready.close()
            slot.process = slot.ready = None
        log.info("stopped", extra={"exit_code": self.exit_code})


def connections_per_process(port: int, pids: list[int]) -> dict[int, int]:
    """Established TCP connections to local ``port`` held by each of ``pids`` (Linux ``/proc``; empty elsewhere):
    how evenly the kernel spread the clients over the workers."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 01: ESTABLISHED
                    inodes.add(fields[9])
    counts: dict[int, int] = {}
    for pid in pids:
        held = 0
        with contextlib.suppress(OSError):
            for fd in os.scandir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(fd.path)
                    held += target.startswith("socket:[") and target[8:-1] in inodes
        counts[pid] = held
    return counts


def _children(pid: int) -> Iterator[int]:
    with contextlib.suppress(OSError):
        for task in os.scandir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                yield from (int(c) for c in Path(task.path, "children").read_text().split())


def worker_pids(supervisor_pid: int) -> list[int]:
    """The worker processes under a ``dancu serve`` process (Linux ``/proc``): its children that are not
    multiprocessing's helper processes."""
    workers = []
    for child in _children(supervisor_pid):
        with contextlib.suppress(OSError):
            if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes():
                workers.append(child)
    return sorted(workers)


class _Corked:
    """A transport whose writes within one event-loop turn go out as one ``send``: uvicorn writes a response's
    head and body separately, which costs a system call and a TCP segment each."""

    __slots__ = ("_buffer", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._buffer: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._buffer:
            self._loop.call_soon(self._flush)
        self._buffer.append(data)

    def _flush(self) -> None:
        if self._buffer:
            data = b"".join(self._buffer)
            self._buffer.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools not installed: uvicorn's own h11 protocol, as it is
    HTTP: str | type[asyncio.Protocol] = "auto"
else:
    class CorkedHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol writing through :class:`_Corked` (a class at module level: the worker
        processes receive it by pickling)."""

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            corked = _Corked(cast(asyncio.Transport, transport), self.loop)
            super().connection_made(cast(asyncio.Transport, corked))

    HTTP = CorkedHttpToolsProtocol
