"""What the reliability scripts share: a private PostgreSQL cluster, server, load and checks.

The scripts (soak.py, db_fault.py, worker_fault.py) run the API as deployed (gunicorn.conf.py,
DEBUG off, a secret, throttles out of the way) on 127.0.0.1 against a PostgreSQL cluster of their
own on port 5433, never the machine's main cluster on 5432: the database fault restarts it. They
drive it with an asyncio client that records every request, so each figure is an exact count.
bench/run.py's helpers start and stop gunicorn, log in and look inside the database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common, machine, seeding, servers  # noqa: E402  (the root is on the path now)
from bench.probe import BENCH_TITLE_PREFIX, read_lines  # noqa: E402

HERE = ROOT / "reliability"
LOGS = HERE / "logs"
LOOPBACK = common.LOOPBACK
# The private cluster. Its port is never the main cluster's: other people's tests use that one.
CLUSTER = "reliability"
PG_PORT = 5433
MAIN_PG_PORT = 5432
PG_USER = "postgres"
DATABASE = "socialapi_reliability"
DSN = f"postgresql://{PG_USER}@{LOOPBACK}:{PG_PORT}/{DATABASE}"
SEED = {"users": 1_000, "posts": 10_000, "votes": 50_000, "comments": 2_000}
# Posts the load creates: bench/probe.py's cleanup deletes the demo account's posts so titled.
TITLE_PREFIX = BENCH_TITLE_PREFIX + "reliability "
LOCK_FILE = Path(tempfile.gettempdir()) / "socialapi-reliability.lock"
# Setup (cluster, migrate, seed) and teardown may take this long beyond the load itself.
SETUP_BUDGET_SECONDS = 600

HarnessError = common.HarnessError


class CheckFailed(Exception):
    """A reliability requirement was not met; the summary says which."""


def log(message: str) -> None:
    print(f"[reliability {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- the private PostgreSQL cluster ---------------------------------------------------------


class PrivateCluster:
    """Debian's `pg_createcluster <version> reliability --port 5433`, trust auth, loopback only."""

    def __init__(self, name: str = CLUSTER, port: int = PG_PORT):
        # Every action below stops or starts a whole server: never aim one at the main cluster.
        if name == "main" or port == MAIN_PG_PORT:
            raise HarnessError(f"refusing to manage cluster {name!r} on port {port}")
        self.name = name
        self.port = port
        self.version = self._newest_version()

    @staticmethod
    def _newest_version() -> str:
        for tool in ("pg_createcluster", "pg_ctlcluster", "pg_lsclusters", "pg_isready"):
            if shutil.which(tool) is None:
                raise HarnessError(
                    f"{tool} is not installed: apt-get install postgresql postgresql-client"
                )
        versions = sorted(
            (
                p.name
                for p in Path("/usr/lib/postgresql").glob("*")
                if (p / "bin/postgres").exists()
            ),
            key=lambda v: [int(x) for x in v.split(".") if x.isdigit()],
        )
        if not versions:
            raise HarnessError("no PostgreSQL server is installed: apt-get install postgresql")
        return versions[-1]

    def status(self) -> dict | None:
        """This cluster's row of pg_lsclusters (port, status); None if it does not exist."""
        for row in self._clusters():
            if row["version"] == self.version and row["name"] == self.name:
                return row
        return None

    @staticmethod
    def _clusters() -> list[dict]:
        result = _command(["pg_lsclusters", "--no-header"], timeout=30)
        rows = []
        for line in result.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 4:
                rows.append(
                    {
                        "version": parts[0],
                        "name": parts[1],
                        "port": int(parts[2]),
                        "status": parts[3],
                    }
                )
        return rows

    def ensure_running(self) -> None:
        """Create the cluster if it is missing, start it if it is down, wait until it answers."""
        if os.geteuid() != 0:
            raise HarnessError("creating and restarting a PostgreSQL cluster needs root")
        row = self.status()
        if row is None:
            taken = [c for c in self._clusters() if c["port"] == self.port]
            if taken or _port_open(self.port):
                raise HarnessError(
                    f"port {self.port} is taken ({taken or 'something listens there'}); "
                    "the private cluster needs it"
                )
            log(f"creating PostgreSQL cluster {self.version}/{self.name} on port {self.port}")
            _command(
                ["pg_createcluster", self.version, self.name, "--port", str(self.port)]
                + ["--", "--auth=trust"],
                timeout=300,
            )
            # Loopback only. (pg_createcluster -o quotes an address as if it were a number.)
            config = Path("/etc/postgresql") / self.version / self.name / "postgresql.conf"
            with config.open("a") as settings:
                settings.write(f"listen_addresses = '{LOOPBACK}'  # reliability/harness.py\n")
        elif row["port"] != self.port:
            raise HarnessError(
                f"cluster {self.version}/{self.name} exists on port {row['port']}, not "
                f"{self.port}: drop it with --cleanup-only"
            )
        if not self.ready():
            self.start()

    def ready(self) -> bool:
        result = subprocess.run(
            ["pg_isready", "-q", "-h", LOOPBACK, "-p", str(self.port)], check=False, timeout=30
        )
        return result.returncode == 0

    def start(self) -> None:
        self._ctl("start")
        self.wait_ready(60)

    def stop(self, mode: str = "fast") -> None:
        self._ctl("stop", "-m", mode)

    def wait_ready(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.ready():
            if time.monotonic() > deadline:
                raise HarnessError(f"the private cluster did not answer within {seconds:.0f} s")
            time.sleep(0.1)

    def drop(self) -> None:
        if self.status() is not None:
            log(f"dropping PostgreSQL cluster {self.version}/{self.name} and its data")
            _command(["pg_dropcluster", "--stop", self.version, self.name], timeout=120)

    def _ctl(self, action: str, *options: str) -> None:
        # --skip-systemctl-redirect: no systemd here, and the unit would be the wrong cluster's.
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", *options]
        _command([*command, self.version, self.name, action], timeout=120)


def _command(command: list[str], timeout: float) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise HarnessError(
            f"{' '.join(command)} failed: {(result.stderr or result.stdout).strip()}"
        )
    return result


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((LOOPBACK, port)) == 0


# --- database, server ------------------------------------------------------------------------


def server_env(port: int, static_root: Path, extra: list[str]) -> dict:
    """Production settings on loopback (bench/run.py's, on the private cluster's database)."""
    env = dict(os.environ)
    for name in ("REDIS_URL", "BENCH_CEILING", "API_CACHE", "CONN_MAX_AGE", "DATABASE_URL"):
        env.pop(name, None)  # each at its production default unless --env sets it
    env.update(
        {
            "DATABASE_URL": DSN.replace("postgresql://", "postgres://"),
            "DEBUG": "false",
            "SECRET_KEY": "reliability-" + secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": f"{LOOPBACK},localhost",
            "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback, no TLS proxy in front
            "PORT": str(port),
            "STATIC_ROOT": str(static_root),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({name: servers.HIGH_RATE for name in servers.THROTTLE_VARS})
    env.update(item.split("=", 1) for item in extra)
    return env


def psycopg_connect():
    import psycopg

    return psycopg.connect(DSN, connect_timeout=10, autocommit=True)


def prepare_database(env: dict, run_dir: Path) -> dict:
    """Create, migrate and seed the database (seed_demo tops it up; a second run adds nothing)."""
    import psycopg

    with psycopg.connect(
        DSN.rsplit("/", 1)[0] + "/postgres", connect_timeout=10, autocommit=True
    ) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            pass
        else:
            log(f"creating database {DATABASE}")
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    log("migrate")
    seeding.manage(env, "migrate", "--noinput", quiet=True)
    log("seed_demo: " + ", ".join(f"{n:,} {k}" for k, n in SEED.items()))
    seeding.manage(
        env, "seed_demo", *(f"--{k}={v}" for k, v in SEED.items()), "--seed=1", quiet=True
    )
    leftovers = seeding.probe(env, "cleanup")  # posts of a run killed before its cleanup
    if leftovers["posts_deleted"]:
        log(f"removed {leftovers['posts_deleted']} posts left by an interrupted run")
    log("collectstatic (as the Procfile's web process does)")
    seeding.manage(env, "collectstatic", "--noinput", "--verbosity=0")
    return seeding.probe(env, "prepare", str(run_dir))


def worker_pids(master_pid: int) -> set[int]:
    """The gunicorn workers: the master's children."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # exited meanwhile
        # The command name (field 2) may hold spaces; the fields after its ")" are plain.
        fields = text.rsplit(")", 1)[1].split()
        if int(fields[1]) == master_pid:
            children.add(int(stat.parent.name))
    return children


def wait_for_workers(master_pid: int, count: int, seconds: float) -> None:
    """Until the master has forked all its workers (/healthz answers as soon as one is up)."""
    deadline = time.monotonic() + seconds
    while len(worker_pids(master_pid)) < count:
        if time.monotonic() > deadline:
            raise HarnessError(f"gunicorn did not start {count} workers within {seconds:.0f} s")
        time.sleep(0.05)


# --- the load --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    weight: int


ENDPOINTS = (
    Endpoint("list", "GET /posts/?limit=10", 30),
    Endpoint("post", "GET /posts/{id}", 25),
    Endpoint("user", "GET /users/{id}", 15),
    Endpoint("vote", "POST /vote/ (toggle)", 20),
    Endpoint("create", "POST /posts/", 10),
)
SOCKET_ERRORS = ("connect", "read", "timeout", "other")
VOTE_POSTS_PER_CLIENT = 4


@dataclass
class Sample:
    """One request: when it started and ended (seconds into the load) and how it ended."""

    endpoint: str
    started: float
    ended: float
    status: int | None = None
    error: str | None = None  # one of SOCKET_ERRORS when no response came
    json_detail: bool = True  # for an error status: a JSON body with a "detail" key
    retry_after: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def failed(self) -> bool:
        """No answer, or the server's own failure (5xx)."""
        return self.error is not None or (self.status is not None and self.status >= 500)


@dataclass
class VoteLedger:
    """What the server acknowledged about the demo account's vote on each post.

    Each post is toggled by one connection only, so its acknowledged operations are ordered:
    the last one says what the database must hold. A request that got no answer (or a 5xx)
    may or may not have happened, so the post is undetermined until the server next answers.
    """

    state: dict[int, bool | None] = field(default_factory=dict)
    votes_acked: int = 0
    unvotes_acked: int = 0
    # The server's answer contradicted an acknowledged state: a lost write seen at run time.
    contradictions: list[str] = field(default_factory=list)

    def next_dir(self, post_id: int) -> int:
        return 0 if self.state.get(post_id) else 1

    def answered(self, post_id: int, direction: int, status: int | None, detail: str) -> None:
        before = self.state.get(post_id)
        if status == 201:
            self.state[post_id] = direction == 1
            if direction == 1:
                self.votes_acked += 1
            else:
                self.unvotes_acked += 1
        elif status == 409 and direction == 1:  # already voted: the vote is there
            if before is False:
                self.contradictions.append(f"post {post_id}: acknowledged unvote undone (409)")
            self.state[post_id] = True
        elif status == 404 and direction == 0 and "vote" in detail.lower():
            if before is True:
                self.contradictions.append(f"post {post_id}: acknowledged vote gone (404)")
            self.state[post_id] = False
        elif status is None or status >= 500:
            self.state[post_id] = None
        # Any other answer (a 4xx) changed nothing.


class Load:
    """`connections` concurrent clients sending the mixed traffic until told to stop.

    Each client keeps one request in flight at a time, on a fresh connection each time (the
    sync gunicorn workers close every connection after its response anyway), so every request
    is counted once: a status, or the socket error that took its place.
    """

    def __init__(self, port: int, token: str, info: dict, run_dir: Path, args, tag: str):
        self.base = f"http://{LOOPBACK}:{port}"
        self.token = token
        self.connections = args.connections
        self.timeout = args.timeout
        self.seed = args.seed
        self.tag = tag
        self.post_ids = read_lines(run_dir / "post_ids.txt")
        self.user_ids = read_lines(run_dir / "user_ids.txt")
        self.vote_ids = read_lines(run_dir / "vote_ids.txt")
        self.demo_user_id = info["demo_user_id"]
        for name in ("post_ids", "user_ids", "vote_ids"):
            if not getattr(self, name):
                raise HarnessError(f"no {name} to request: is the database seeded?")
        self.samples: list[Sample] = []
        self.posts_acked: list[int] = []
        # A few posts per client, so each one is voted and unvoted again and again.
        self.vote_posts = {
            index: self.vote_ids[index :: self.connections][:VOTE_POSTS_PER_CLIENT]
            for index in range(self.connections)
        }
        # probe.py prepare chose posts the demo account has not voted on.
        self.ledger = VoteLedger(
            {post_id: False for posts in self.vote_posts.values() for post_id in posts}
        )
        self.t0 = 0.0
        self.seconds = 0.0
        self._stop = asyncio.Event()

    def now(self) -> float:
        return time.monotonic() - self.t0

    async def run(self, seconds: float, during: Callable | None = None) -> None:
        """Load for `seconds`; `during(load)` runs alongside (the fault), its errors raised."""
        import aiohttp

        connector = aiohttp.TCPConnector(limit=self.connections, force_close=True)
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        async with aiohttp.ClientSession(
            base_url=self.base, connector=connector, timeout=timeout, headers=headers
        ) as session:
            # aiohttp resends a GET once, silently, when the server drops the connection (as
            # aiohttp's own test client does, we turn that off): every failure must be seen.
            if not hasattr(session, "_retry_connection"):
                raise HarnessError("this aiohttp cannot turn its retries off: pin its version")
            session._retry_connection = False
            self.t0 = time.monotonic()
            clients = [
                asyncio.create_task(self._client(session, index, seconds))
                for index in range(self.connections)
            ]
            try:
                if during is not None:
                    await during(self)
                await asyncio.gather(*clients)
            finally:
                self._stop.set()
                for task in clients:
                    task.cancel()  # only when `during` failed: the clients end by themselves
                await asyncio.gather(*clients, return_exceptions=True)
            self.seconds = self.now()

    async def _client(self, session, index: int, seconds: float) -> None:
        rng = random.Random(f"{self.seed}-{index}")
        mine = self.vote_posts[index]
        weights = [e.weight for e in ENDPOINTS]
        sent = votes = 0
        while self.now() < seconds and not self._stop.is_set():
            endpoint = rng.choices(ENDPOINTS, weights)[0]
            if endpoint.key == "vote" and not mine:
                endpoint = ENDPOINTS[0]
            vote_post = mine[votes % len(mine)] if endpoint.key == "vote" else None
            await self._request(session, endpoint, rng, index, vote_post, sent)
            sent += 1
            votes += endpoint.key == "vote"

    async def _request(self, session, endpoint: Endpoint, rng, index, vote_post, sent) -> None:
        import aiohttp

        body = direction = None
        if endpoint.key == "list":
            method, path = "GET", "/posts/?limit=10"
        elif endpoint.key == "post":
            method, path = "GET", f"/posts/{rng.choice(self.post_ids)}"
        elif endpoint.key == "user":
            method, path = "GET", f"/users/{rng.choice(self.user_ids)}"
        elif endpoint.key == "vote":
            direction = self.ledger.next_dir(vote_post)
            method, path, body = "POST", "/vote/", {"post_id": vote_post, "dir": direction}
        else:
            method, path = "POST", "/posts/"
            title = f"{TITLE_PREFIX}{self.tag} c{index} n{sent}"
            body = {
                "title": title,
                "content": "Written under load by reliability/.",
                "published": True,
            }
        sample = Sample(endpoint.key, self.now(), 0.0)
        payload = None
        try:
            async with session.request(method, path, json=body) as response:
                raw = await response.read()
                sample.status = response.status
                sample.retry_after = "Retry-After" in response.headers
            payload = _json(raw)
        except aiohttp.ClientConnectorError:
            sample.error = "connect"
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientPayloadError):
            sample.error = "read"
        except TimeoutError:
            sample.error = "timeout"
        except aiohttp.ClientError:
            sample.error = "other"
        sample.ended = self.now()
        if sample.status is not None and sample.status >= 400:
            sample.json_detail = isinstance(payload, dict) and "detail" in payload
        self.samples.append(sample)
        if endpoint.key == "create" and sample.status == 201:
            if isinstance(payload, dict) and isinstance(payload.get("id"), int):
                self.posts_acked.append(payload["id"])
            else:
                sample.json_detail = False  # a 201 without the new post's id: counted as bad
        elif endpoint.key == "vote":
            detail = str(payload.get("detail", "")) if isinstance(payload, dict) else ""
            self.ledger.answered(vote_post, direction, sample.status, detail)


def _json(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return None


# --- figures ---------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def endpoint_table(samples: list[Sample], seconds: float) -> str:
    """Per endpoint and in total: requests, statuses, socket errors, req/s and latency."""
    header = (
        f"{'endpoint':<22} {'requests':>8} {'2xx':>7} {'4xx':>5} {'503':>5} {'5xx!503':>7} "
        f"{'sock err':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}"
    )
    lines = [header, "-" * len(header)]
    groups = [(e.label, [s for s in samples if s.endpoint == e.key]) for e in ENDPOINTS]
    groups.append(("total", samples))
    for label, rows in groups:
        latencies = [(s.ended - s.started) * 1000 for s in rows if s.status is not None]
        statuses = Counter(s.status for s in rows if s.status is not None)
        lines.append(
            f"{label:<22} {len(rows):>8} {sum(s.ok for s in rows):>7} "
            f"{sum(n for c, n in statuses.items() if 400 <= c < 500):>5} {statuses[503]:>5} "
            f"{sum(n for c, n in statuses.items() if c >= 500 and c != 503):>7} "
            f"{sum(s.error is not None for s in rows):>8} "
            f"{len(rows) / seconds if seconds else 0:>7.1f} {_f(percentile(latencies, 0.5))} "
            f"{_f(percentile(latencies, 0.99))} {_f(max(latencies, default=None))}"
        )
    return "\n".join(lines)


def _f(value) -> str:
    return f"{value:>7.0f}" if value is not None else f"{'-':>7}"


def tally(samples: list[Sample]) -> dict:
    statuses = Counter(s.status for s in samples if s.status is not None)
    errors = Counter(s.error for s in samples if s.error is not None)
    return {
        "requests": len(samples),
        "ok": sum(s.ok for s in samples),
        "statuses": dict(sorted(statuses.items())),
        "server_errors": sum(n for c, n in statuses.items() if c >= 500),
        "non_2xx": sum(n for c, n in statuses.items() if not 200 <= c < 300),
        "socket_errors": sum(errors.values()),
        "errors": {k: errors[k] for k in SOCKET_ERRORS if errors[k]},
        "not_json": sum(not s.json_detail for s in samples),
    }


def per_second(samples: list[Sample], seconds: float) -> list[Counter]:
    """Outcomes by the second in which each request ended: 'ok', a status, or an error."""
    buckets = [Counter() for _ in range(int(seconds) + 1)]
    for s in samples:
        bucket = buckets[min(int(s.ended), len(buckets) - 1)]
        bucket["ok" if s.ok else (s.error or s.status)] += 1
    return buckets


def timeline(samples: list[Sample], seconds: float, start: float, end: float, marks: dict) -> str:
    """One line per second from `start` to `end`: how requests ended, and what happened."""
    buckets = per_second(samples, seconds)
    lines = [f"  {'second':<9} {'2xx':>5} {'4xx':>5} {'503':>5} {'5xx!503':>7} {'sock err':>8}"]
    for second in range(max(0, int(start)), min(len(buckets), int(end) + 1)):
        bucket = buckets[second]
        client = sum(n for k, n in bucket.items() if isinstance(k, int) and 400 <= k < 500)
        server = sum(n for k, n in bucket.items() if isinstance(k, int) and k >= 500 and k != 503)
        errors = sum(n for k, n in bucket.items() if k in SOCKET_ERRORS)
        events = "; ".join(text for at, text in sorted(marks.items()) if int(at) == second)
        lines.append(
            f"  {f'{second}-{second + 1} s':<9} {bucket['ok']:>5} {client:>5} {bucket[503]:>5} "
            f"{server:>7} {errors:>8}  {events}".rstrip()
        )
    return "\n".join(lines)


def window_rates(samples: list[Sample], seconds: float, width: int = 10) -> str:
    """2xx per second, averaged over `width`-second windows of the load."""
    buckets = per_second(samples, seconds)[: int(seconds)]
    windows = [buckets[i : i + width] for i in range(0, len(buckets), width)]
    return " ".join(f"{sum(b['ok'] for b in w) / len(w):.0f}" for w in windows if w)


def verify_writes(load: Load) -> dict:
    """Compare what the server acknowledged with what the database holds now."""
    acked = load.posts_acked
    pool = list(load.ledger.state)
    with psycopg_connect() as conn:
        found = {
            row[0]
            for row in conn.execute(
                "SELECT id FROM posts_post WHERE id = ANY(%s::bigint[])", [acked]
            )
        }
        unacked = conn.execute(
            "SELECT count(*) FROM posts_post WHERE owner_id = %s AND title LIKE %s "
            "AND NOT (id = ANY(%s::bigint[]))",
            [load.demo_user_id, f"{TITLE_PREFIX}{load.tag} %", acked],
        ).fetchone()[0]
        voted = {
            row[0]
            for row in conn.execute(
                "SELECT post_id FROM posts_vote WHERE user_id = %s AND post_id = ANY(%s::bigint[])",
                [load.demo_user_id, pool],
            )
        }
    states = load.ledger.state
    known = {post: state for post, state in states.items() if state is not None}
    votes_lost = sorted(p for p, state in known.items() if state and p not in voted)
    unvotes_lost = sorted(p for p, state in known.items() if not state and p in voted)
    missing = sorted(set(acked) - found)
    duplicates = len(acked) - len(set(acked))
    lost = len(missing) + len(votes_lost) + len(unvotes_lost) + len(load.ledger.contradictions)
    return {
        "posts_acked": len(acked),
        "posts_missing": missing,
        "posts_duplicate_ids": duplicates,
        "posts_committed_without_ack": unacked,
        "votes_acked": load.ledger.votes_acked,
        "unvotes_acked": load.ledger.unvotes_acked,
        "vote_posts_checked": len(known),
        "vote_posts_undetermined": len(states) - len(known),
        "votes_lost": votes_lost,
        "unvotes_lost": unvotes_lost,
        "contradictions": load.ledger.contradictions,
        "acked_writes": len(acked) + load.ledger.votes_acked + load.ledger.unvotes_acked,
        "lost_writes": lost,
    }


def writes_report(check: dict) -> str:
    lines = [
        f"acknowledged writes: {check['acked_writes']:,} ({check['posts_acked']:,} posts created, "
        f"{check['votes_acked']:,} votes, {check['unvotes_acked']:,} unvotes)",
        f"lost writes: {check['lost_writes']} (posts missing {len(check['posts_missing'])}, "
        f"votes missing {len(check['votes_lost'])}, unvotes undone {len(check['unvotes_lost'])}, "
        f"contradicted at run time {len(check['contradictions'])})",
        f"vote state checked on {check['vote_posts_checked']:,} posts; "
        f"{check['vote_posts_undetermined']} undetermined (their last request got no answer or "
        f"a 5xx, so either state is right); posts written but not acknowledged "
        f"{check['posts_committed_without_ack']} (allowed: the answer was lost, not the write)",
    ]
    for name in ("posts_missing", "votes_lost", "unvotes_lost", "contradictions"):
        if check[name]:
            lines.append(f"  {name}: {check[name][:20]}")
    if check["posts_duplicate_ids"]:
        lines.append(f"  the same post id acknowledged twice: {check['posts_duplicate_ids']}")
    return "\n".join(lines)


# --- one run ---------------------------------------------------------------------------------


def parser(description: str, *, duration: int) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--duration", type=int, default=duration, help="seconds of load")
    p.add_argument("--connections", type=int, default=64, help="concurrent clients")
    p.add_argument("--timeout", type=int, default=10, help="per-request timeout, s (a hang)")
    p.add_argument("--seed", type=int, default=1, help="seed of the traffic mix")
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra server environment, repeatable (e.g. WEB_CONCURRENCY=3)",
    )
    p.add_argument("--port", type=int, help="server port on 127.0.0.1; a free one if not given")
    p.add_argument("--keep-log", action="store_true", help="keep the server log even if clean")
    p.add_argument(
        "--cleanup",
        action="store_true",
        help="drop the private PostgreSQL cluster (and its data) after the run",
    )
    p.add_argument(
        "--cleanup-only",
        action="store_true",
        help="drop the private PostgreSQL cluster and exit, running nothing",
    )
    return p


def parse(p: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    args = p.parse_args(argv)
    if args.duration < 5 or args.connections < 1 or args.timeout < 1:
        p.error("--duration at least 5, --connections and --timeout at least 1")
    for item in args.env:
        if "=" not in item:
            p.error(f"--env wants KEY=VALUE, not {item!r}")
    return args


@dataclass
class Context:
    """What a script's body gets: a running server with a logged-in demo account."""

    args: argparse.Namespace
    cluster: PrivateCluster
    server: servers.Server
    env: dict
    info: dict
    run_dir: Path
    token: str
    workers: int
    tag: str

    def load(self) -> Load:
        return Load(self.server.port, self.token, self.info, self.run_dir, self.args, self.tag)


def _ensure_aiohttp() -> None:
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        log("aiohttp is missing: installing reliability/requirements.txt")
        requirements = str(HERE / "requirements.txt")
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "-r", requirements],
            check=True,
            timeout=600,
        )


def _terminate(signum, frame):
    log(f"stopping on {signal.Signals(signum).name}: cleaning up")
    raise SystemExit(128 + signum)  # unwinds through every finally: gunicorn is stopped


def main(name: str, args: argparse.Namespace, body: Callable[[Context], tuple[str, list[str]]]):
    """Set up, run `body`, print its summary, tear down; exit 0, 1 (a check failed) or 2."""
    try:
        common.ensure_venv()
        _ensure_aiohttp()
    except (HarnessError, subprocess.CalledProcessError) as error:
        log(f"error: {error}")
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    signal.signal(signal.SIGALRM, _terminate)
    # Bounded in time whatever happens: the whole run, setup and teardown included.
    signal.alarm(SETUP_BUDGET_SECONDS + args.duration + 2 * args.timeout)
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(_exclusive())
            cluster = PrivateCluster()
            if args.cleanup_only:
                cluster.drop()
                return 0
            summary, problems = _run_once(name, args, cluster, body, stack)
        except (HarnessError, subprocess.CalledProcessError) as error:
            log(f"error: {error}")
            return 2
        except KeyboardInterrupt:
            log("interrupted: the server is stopped and the database cleaned up")
            return 130
    print(summary)
    if problems:
        print(f"\nFAILED: {'; '.join(problems)}")
        return 1
    print("\nPASSED")
    return 0


@contextlib.contextmanager
def _exclusive():
    """One reliability run at a time on this machine: the database fault stops the cluster."""
    with LOCK_FILE.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise HarnessError(f"another reliability run holds {LOCK_FILE}") from None
        yield


def _run_once(name, args, cluster, body, stack):
    LOGS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    run_dir = Path(tempfile.mkdtemp(prefix=f"socialapi-reliability-{name}-"))
    stack.callback(shutil.rmtree, run_dir, ignore_errors=True)
    # Callbacks run last-in first-out: the cluster is stopped (or dropped) after the cleanup.
    stack.callback(_release_cluster, cluster, args.cleanup)
    cluster.ensure_running()
    port = args.port or servers.free_port()
    env = server_env(port, run_dir / "static", args.env)
    info = prepare_database(env, run_dir)
    stack.callback(_clean_database, cluster, env, run_dir)
    log_path = LOGS / f"{stamp}-{name}-server.log"
    server = servers.Server(env, port, log_path)

    def stop_server(exc_type, exc, traceback):
        # The log of a run that failed, or ended in an error, is kept for a look.
        _stop_server(server, log_path, args.keep_log or exc_type is not None)

    stack.push(stop_server)
    config = servers.gunicorn_config(env)
    log(
        f"starting gunicorn on {LOOPBACK}:{port}: {config['workers']} {config['worker_class']} "
        f"workers x {config['threads']} threads (log: {log_path.relative_to(ROOT)})"
    )
    server.start()
    wait_for_workers(server.process.pid, config["workers"], 60)
    token = servers.login_token(port, info["demo_email"], info["demo_password"])
    context = Context(
        args, cluster, server, env, info, run_dir, token, config["workers"], tag=stamp
    )
    summary, problems = body(context)
    header = (
        f"socialapi reliability: {name}, {datetime.now():%Y-%m-%d %H:%M}, git "
        f"{machine.git_info()['commit']}; gunicorn {config['worker_class']} x {config['workers']} "
        f"workers x {config['threads']} threads; PostgreSQL {cluster.version}/{cluster.name} on "
        f"{LOOPBACK}:{PG_PORT} ({info['counts']['users']:,} users, {info['counts']['posts']:,} "
        f"posts, {info['counts']['votes']:,} votes); {args.connections} connections; "
        f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}, "
        f"{len(os.sched_getaffinity(0))} cores"
    )
    if server.process.poll() is not None:
        problems.append(f"gunicorn exited with {server.process.returncode}")
    if problems:
        args.keep_log = True
    return f"\n{header}\n\n{summary}", problems


def server_log_line(log_path: Path) -> str:
    summary = servers.server_log_summary(log_path, 0)
    return (
        f"server log: {summary['error_lines']} error lines, {summary['worker_timeouts']} worker "
        f"timeouts, {summary['worker_boots']} worker boots"
    )


def _stop_server(server: servers.Server, log_path: Path, keep: bool) -> None:
    server.stop()
    if keep:
        log(f"server log kept: {log_path.relative_to(ROOT)}")
    else:
        log_path.unlink(missing_ok=True)


def _clean_database(cluster: PrivateCluster, env: dict, run_dir: Path) -> None:
    """Undo the run's writes (its posts, the demo account's votes), so every run starts alike."""
    try:
        if not cluster.ready():
            cluster.start()  # a fault run stopped it and failed before starting it again
        undone = seeding.probe(env, "cleanup", str(run_dir))
        log(f"cleanup: {undone['posts_deleted']} posts and {undone['votes_deleted']} votes removed")
    except (HarnessError, subprocess.SubprocessError) as error:
        log(f"cleanup failed: {error}")


def _release_cluster(cluster: PrivateCluster, drop: bool) -> None:
    try:
        if drop:
            cluster.drop()
        elif cluster.ready():
            log("stopping the private cluster (its data stays; --cleanup-only drops it)")
            cluster.stop()
    except (HarnessError, subprocess.SubprocessError) as error:
        log(f"could not release the private cluster: {error}")
