#!/usr/bin/env python3
"""Benchmark socialapi as deployed: PostgreSQL seeded by seed_demo, gunicorn.conf.py, driven by wrk.

One command (see the README's Performance section):

    .venv/bin/python bench/run.py                  # 100k posts, 10 s per scenario, 64 connections
    .venv/bin/python bench/run.py --sizes 10k,100k,1m

Every scenario is reported as req/s, p50, p99, non-2xx responses, socket errors and its ratio to
the ceiling: a bare Django view returning constant JSON through the same gunicorn config and
middleware, measured in the same run (these machines are shared and noisy; ratios hold where
absolute numbers drift). Results: a table on stdout, bench/results/<stamp>-<size>.json and a PNG
chart beside it. Everything listens and connects on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "lua"
RESULTS = BENCH / "results"
LOOPBACK = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
REDIS_PORT = 6379


@dataclass(frozen=True)
class Size:
    users: int
    posts: int
    votes: int


SIZES = {
    "10k": Size(users=1_000, posts=10_000, votes=50_000),
    "100k": Size(users=1_000, posts=100_000, votes=500_000),
    "1m": Size(users=1_000, posts=1_000_000, votes=5_000_000),
}
# The throttles would turn a benchmark into a 429 benchmark: every rate far above any run.
THROTTLE_VARS = (
    "THROTTLE_ANON",
    "THROTTLE_USER",
    "THROTTLE_SIGNUP",
    "THROTTLE_LOGIN",
    "THROTTLE_LOGIN_EMAIL",
)
HIGH_RATE = "1000000/min"
DEEP_SKIPS = (0, 1_000, 10_000, 50_000)


@dataclass(frozen=True)
class Scenario:
    """One wrk run: a lua script from bench/lua and what it requests."""

    key: str
    label: str
    script: str  # get.lua requests `path`; the others build their own requests
    path: str = "/"
    auth: bool = True
    ids: str | None = None  # id file (from probe.py prepare) the script rotates through
    writes: bool = False  # undo its writes afterwards (probe.py cleanup)


def scenarios(search: str) -> list[Scenario]:
    """The issue's scenarios, in running order: reads first, then writes, then the slow login."""
    query = urllib.parse.urlencode({"search": search})
    return [
        Scenario("posts_limit10", "GET /posts/?limit=10", "get.lua", "/posts/?limit=10"),
        Scenario("posts_limit100", "GET /posts/?limit=100", "get.lua", "/posts/?limit=100"),
        Scenario("posts_search", f"GET /posts/?{query}", "get.lua", f"/posts/?{query}"),
        Scenario("post_detail", "GET /posts/{id}", "get_ids.lua", "/posts/{id}", ids="post_ids"),
        Scenario("user_detail", "GET /users/{id}", "get_ids.lua", "/users/{id}", ids="user_ids"),
        Scenario("vote", "POST /vote/ (toggle)", "vote.lua", ids="vote_ids", writes=True),
        Scenario("post_create", "POST /posts/", "create_post.lua", writes=True),
        Scenario("login", "POST /login (form)", "login.lua", auth=False, ids="login_emails"),
    ]


CEILING = Scenario(
    "ceiling", "ceiling: bare Django JSON view", "get.lua", "/bench/ceiling", auth=False
)
# A token is reused for this long, well inside the default 30-minute access token lifetime.
TOKEN_REUSE_SECONDS = 600


class HarnessError(Exception):
    """A precondition failed; the message says what to do."""


# --- command line ---------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--size", choices=SIZES, default="100k", help="database size")
    parser.add_argument(
        "--sizes",
        type=lambda text: _choices_list(text, SIZES),
        help="several sizes in sequence, e.g. 10k,100k,1m (overrides --size)",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument(
        "--connections",
        type=_int_list,
        default=[64],
        help="connection levels for every scenario, e.g. 64 or 16,64",
    )
    parser.add_argument(
        "--stall-connections",
        type=int,
        default=256,
        help="connections of the stall check on GET /posts/?limit=10 (0: skip it)",
    )
    parser.add_argument(
        "--skip-duration",
        type=int,
        default=5,
        help="seconds per unloaded (1 connection) run: deep skip and login",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--timeout", type=int, default=10, help="wrk's per-request timeout, s")
    parser.add_argument(
        "--only",
        type=lambda text: text.split(","),
        help="run only these scenario keys (comma list; the ceiling always runs), e.g. "
        "posts_limit10,post_detail",
    )
    parser.add_argument(
        "--skip-seed",
        action="store_true",
        help="use the database as it is: no seed_demo even if it has fewer rows than the size",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="drop and re-create the size's database first"
    )
    parser.add_argument(
        "--redis-db",
        type=int,
        metavar="N",
        help="give the server REDIS_URL=redis://127.0.0.1:6379/N; none when not given",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra server environment, repeatable (e.g. WEB_CONCURRENCY=3)",
    )
    parser.add_argument(
        "--port", type=int, help="server port on 127.0.0.1; a free one when not given"
    )
    parser.add_argument(
        "--keep-log", action="store_true", help="keep the server log even when it shows no errors"
    )
    parser.add_argument("--no-chart", action="store_true", help="no PNG (and no matplotlib)")
    parser.add_argument(
        "--report",
        type=Path,
        metavar="RESULT.json",
        help="run nothing: print the table of a saved result and redraw its chart",
    )
    args = parser.parse_args(argv)
    args.sizes = args.sizes or [args.size]
    for key in args.only or []:
        known = {s.key for s in scenarios("x")}
        if key not in known:
            parser.error(f"--only: unknown scenario {key!r}; known: {', '.join(sorted(known))}")
    for item in args.env:
        if "=" not in item:
            parser.error(f"--env wants KEY=VALUE, not {item!r}")
    if args.duration < 1 or args.skip_duration < 1 or args.threads < 1 or args.timeout < 1:
        parser.error("--duration, --skip-duration, --threads and --timeout must be at least 1")
    return args


def _int_list(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("a comma list of positive integers")
    return values


def _choices_list(text: str, choices) -> list[str]:
    values = [part.strip() for part in text.split(",") if part.strip()]
    bad = [v for v in values if v not in choices]
    if bad or not values:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)}")
    return values


# --- preconditions --------------------------------------------------------------------------


def ensure_venv() -> None:
    """Re-run under the project's .venv when started with another Python."""
    venv_python = ROOT / ".venv" / "bin" / "python"
    if sys.prefix == sys.base_prefix and venv_python.exists():
        os.execv(venv_python, [str(venv_python), *sys.argv])
    try:
        import django  # noqa: F401
        import gunicorn  # noqa: F401
    except ImportError as error:
        raise HarnessError(
            f"{error.name} is not installed for {sys.executable}: run `make install` first "
            "(or `.venv/bin/pip install -r requirements.txt`)"
        ) from None


def ensure_tools() -> None:
    missing = {
        "wrk": "apt-get install wrk",
        "psql": "apt-get install postgresql-client",
        "createdb": "apt-get install postgresql-client",
        "pg_isready": "apt-get install postgresql-client",
    }
    for tool, fix in missing.items():
        if shutil.which(tool) is None:
            raise HarnessError(f"{tool} is not installed: {fix}")


def ensure_postgres() -> None:
    """PostgreSQL on 127.0.0.1:5432, started as .ci/run starts it when it is not running."""
    if _pg_ready():
        return
    clusters = sorted(Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").exists() else []
    if clusters and shutil.which("pg_ctlcluster"):
        log(f"PostgreSQL is not answering; starting cluster {clusters[-1].name}/main")
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", clusters[-1].name, "main", "start"],
            check=False,
            timeout=60,
        )
        for _ in range(30):
            if _pg_ready():
                return
            time.sleep(1)
    raise HarnessError(
        f"PostgreSQL does not answer on {LOOPBACK}:{PG_PORT} as user {PG_USER}: "
        "start it (apt-get install postgresql; pg_ctlcluster <version> main start)"
    )


def _pg_ready() -> bool:
    result = subprocess.run(
        ["pg_isready", "-q", "-h", LOOPBACK, "-p", str(PG_PORT)], check=False, timeout=30
    )
    return result.returncode == 0


def ensure_redis(db: int) -> str:
    """REDIS_URL for database `db` on loopback, emptied: a run never reads an older run's cache.

    (A re-seeded database of the same name would otherwise meet cached pages of the old one.)
    """
    try:
        with socket.create_connection((LOOPBACK, REDIS_PORT), timeout=5) as conn:
            conn.sendall(f"SELECT {db}\r\nFLUSHDB\r\n".encode())
            answer = b""
            while answer.count(b"\r\n") < 2:
                chunk = conn.recv(256)
                if not chunk:
                    break
                answer += chunk
            if answer != b"+OK\r\n+OK\r\n":
                raise OSError(f"SELECT {db}; FLUSHDB answered {answer!r}")
    except OSError as error:
        raise HarnessError(
            f"Redis does not answer on {LOOPBACK}:{REDIS_PORT} ({error}): start redis-server, "
            "or leave out --redis-db"
        ) from None
    return f"redis://{LOOPBACK}:{REDIS_PORT}/{db}"


def ensure_matplotlib() -> bool:
    """matplotlib, pinned in bench/requirements.txt, installed into this venv when missing."""
    try:
        import matplotlib  # noqa: F401

        return True
    except ImportError:
        pass
    log("matplotlib is missing: installing bench/requirements.txt")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "-r", str(BENCH / "requirements.txt")],
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        log("could not install matplotlib: no chart this time (the table and JSON are complete)")
        return False
    import importlib

    importlib.invalidate_caches()
    return True


# --- database -------------------------------------------------------------------------------


def psql(sql: str, database: str = "postgres") -> str:
    result = subprocess.run(
        ["psql", "-h", LOOPBACK, "-p", str(PG_PORT), "-U", PG_USER, "-d", database]
        + ["-v", "ON_ERROR_STOP=1", "-tAc", sql],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )
    if result.returncode != 0:
        raise HarnessError(f"psql failed: {result.stderr.strip()}")
    return result.stdout.strip()


def ensure_database(name: str, *, fresh: bool) -> bool:
    """Create the database if missing (drop it first with `fresh`); True if it was created."""
    if fresh:
        log(f"dropping database {name}")
        psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1":
        return False
    log(f"creating database {name}")
    subprocess.run(
        ["createdb", "-h", LOOPBACK, "-p", str(PG_PORT), "-U", PG_USER, name],
        check=True,
        timeout=120,
    )
    return True


def manage(env: dict, *args: str, quiet: bool = False) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL if quiet else None,
    )


def probe(env: dict, *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, str(BENCH / "probe.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise HarnessError(f"bench/probe.py {' '.join(args)} failed:\n{result.stderr.strip()}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def prepare_database(size_name: str, args, env: dict) -> dict:
    """Create, migrate and seed the size's database (or reuse it); return what is in it."""
    size = SIZES[size_name]
    created = ensure_database(env["BENCH_DATABASE"], fresh=args.fresh)
    log("migrate")
    manage(env, "migrate", "--noinput", quiet=True)
    if not created:
        leftovers = probe(env, "cleanup")  # a run killed before its cleanup
        if leftovers["posts_deleted"]:
            log(f"removed {leftovers['posts_deleted']} posts left by an interrupted run")
    counts = probe(env, "counts")
    seeded_before = (counts["users"] > size.users and counts["posts"] >= size.posts) and counts[
        "votes"
    ] >= size.votes
    seed_seconds = None
    if args.skip_seed:
        if not seeded_before:
            log(f"--skip-seed: the database holds {counts}, less than the {size_name} size")
    elif seeded_before:
        log(f"reusing {env['BENCH_DATABASE']}: already seeded ({_counts_text(counts)})")
    else:
        log(f"seeding {size_name}: {size.users} users, {size.posts} posts, {size.votes} votes")
        started = time.monotonic()
        manage(
            env,
            "seed_demo",
            f"--users={size.users}",
            f"--posts={size.posts}",
            f"--votes={size.votes}",
            "--seed=1",
        )
        seed_seconds = round(time.monotonic() - started, 1)
        counts = probe(env, "counts")
    return {
        "name": env["BENCH_DATABASE"],
        "counts": counts,
        "reused": seed_seconds is None,
        "seed_seconds": seed_seconds,
    }


def _counts_text(counts: dict) -> str:
    return ", ".join(f"{counts[k]:,} {k}" for k in ("users", "posts", "votes"))


# --- server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def server_env(size_name: str, args, port: int, static_root: Path) -> dict:
    """Production settings on loopback: DEBUG off, a secret, throttles out of the way."""
    database = f"socialapi_bench_{size_name}"
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"postgres://{PG_USER}@{LOOPBACK}:{PG_PORT}/{database}",
            "BENCH_DATABASE": database,
            "DEBUG": "false",
            "SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": f"{LOOPBACK},localhost",
            "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback, no TLS proxy in front
            "BENCH_CEILING": "true",
            "PORT": str(port),
            "STATIC_ROOT": str(static_root),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({name: HIGH_RATE for name in THROTTLE_VARS})
    env.pop("REDIS_URL", None)  # the server's cache is the --redis-db flag's to choose
    if args.redis_db is not None:
        env["REDIS_URL"] = ensure_redis(args.redis_db)
    env.update(item.split("=", 1) for item in args.env)
    return env


def gunicorn_config(env: dict) -> dict:
    """The settings gunicorn.conf.py resolves to in this environment (workers, threads...)."""
    code = (
        "import json, runpy; c = runpy.run_path('gunicorn.conf.py'); "
        "keys = ('workers', 'threads', 'worker_class', 'timeout', 'keepalive', "
        "'max_requests', 'max_requests_jitter', 'worker_connections', 'backlog'); "
        "print(json.dumps({k: c[k] for k in keys if k in c}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    config = json.loads(result.stdout)
    config.setdefault("worker_class", "sync")
    return config


class Server:
    """`gunicorn socialapi.wsgi -c gunicorn.conf.py` on 127.0.0.1 in its own process group."""

    def __init__(self, env: dict, port: int, log_path: Path):
        self.env = env
        self.port = port
        self.log_path = log_path
        self.process = None
        self._log = None

    def start(self) -> None:
        gunicorn = Path(sys.executable).parent / "gunicorn"
        command = [str(gunicorn)] if gunicorn.exists() else [sys.executable, "-m", "gunicorn"]
        command += ["socialapi.wsgi", "-c", "gunicorn.conf.py", "--bind", f"{LOOPBACK}:{self.port}"]
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() ends every worker
        )
        self.wait_healthy(60)

    def wait_healthy(self, seconds: float) -> float:
        """Seconds until /healthz answered 200; HarnessError if it did not within `seconds`."""
        started = time.monotonic()
        last = "no answer"
        while time.monotonic() - started < seconds:
            if self.process.poll() is not None:
                raise HarnessError(
                    f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                status, _ = http_request(self.port, "GET", "/healthz", timeout=5)
                if status == 200:
                    return time.monotonic() - started
                last = f"HTTP {status}"
            except OSError as error:
                last = str(error)
            time.sleep(0.25)
        raise HarnessError(f"/healthz did not answer 200 within {seconds:.0f} s ({last})")

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGINT)  # gunicorn: quick shutdown
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
            except ProcessLookupError:
                pass
        if self.process is not None:
            # Workers outlive a master killed hard; the group id is the master's pid.
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self._log is not None:
            self._log.close()
            self._log = None


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_request(port: int, method: str, path: str, *, data=None, headers=None, timeout=10):
    """(status, body) of one request to the server on loopback, never through a proxy."""
    request = urllib.request.Request(
        f"http://{LOOPBACK}:{port}{path}", data=data, headers=headers or {}, method=method
    )
    try:
        with _NO_PROXY.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def login_token(port: int, email: str, password: str) -> str:
    body = urllib.parse.urlencode({"username": email, "password": password}).encode()
    status, payload = http_request(
        port,
        "POST",
        "/login",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    if status != 200:
        raise HarnessError(f"POST /login as {email} answered {status}: {payload[:300]!r}")
    return json.loads(payload)["access_token"]


# --- wrk ------------------------------------------------------------------------------------


class Runner:
    """Runs scenarios with wrk against one server and turns wrk's report into results."""

    def __init__(self, server: Server, info: dict, run_dir: Path, args):
        self.server = server
        self.info = info
        self.run_dir = run_dir
        self.args = args
        self._token = None
        self._token_at = 0.0

    def token(self) -> str:
        # Not one per run: each login is an Argon2 hash, CPU taken from the run that follows.
        if self._token is None or time.monotonic() - self._token_at > TOKEN_REUSE_SECONDS:
            self._token = login_token(
                self.server.port, self.info["demo_email"], self.info["demo_password"]
            )
            self._token_at = time.monotonic()
        return self._token

    def warm_up(self) -> None:
        """Unrecorded runs, so the first scenario does not pay for imports and connections."""
        log("  warming up")
        for scenario in (CEILING, scenarios("x")[0]):
            self.run(scenario, self.args.connections[0], 2)

    def drain(self, limit: float = 60.0) -> float:
        """Seconds until the server has worked off what the last run left queued.

        wrk closes its connections when its time is up, but the requests already queued in the
        listen backlog are still served; the next run must not start while they are. A /healthz
        request joins the back of that queue, so a prompt answer means the queue is empty.
        """
        started = time.monotonic()
        while time.monotonic() - started < limit:
            asked = time.monotonic()
            try:
                status, _ = http_request(self.server.port, "GET", "/healthz", timeout=limit)
            except OSError:
                status = None
            if status == 200 and time.monotonic() - asked < 0.1:
                break
            time.sleep(0.1)
        drained = time.monotonic() - started
        time.sleep(0.5)  # the requests the workers hold right now
        return round(drained, 2)

    def run(self, scenario: Scenario, connections: int, duration: int, path: str | None = None):
        port = self.server.port
        threads = max(1, min(self.args.threads, connections))
        url_path = path or scenario.path
        env = dict(os.environ)
        env["BENCH_THREADS"] = str(threads)
        if scenario.auth:
            env["BENCH_TOKEN"] = self.token()
        if scenario.ids:
            env["BENCH_IDS_FILE"] = str(self.run_dir / f"{scenario.ids}.txt")
        if scenario.key == "login":
            env["BENCH_PASSWORD"] = self.info["demo_password"]
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s"]
        command += [f"--timeout={self.args.timeout}s", "-s", str(LUA / scenario.script)]
        if scenario.script == "get.lua":
            command.append(f"http://{LOOPBACK}:{port}{url_path}")
        else:
            command += [f"http://{LOOPBACK}:{port}/", "--", url_path]
        log_start = self.server.log_path.stat().st_size
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=env,
            timeout=duration + self.args.timeout + 60,
            check=False,
        )
        if self.server.process.poll() is not None:
            raise HarnessError(
                f"gunicorn died during {scenario.label} (exit {self.server.process.returncode}):"
                f"\n{self.server.log_tail()}"
            )
        drain_s = self.drain()
        log_slice = server_log_summary(self.server.log_path, log_start)
        report = next(
            (
                json.loads(line.removeprefix("BENCH_JSON "))
                for line in result.stdout.splitlines()
                if line.startswith("BENCH_JSON ")
            ),
            None,
        )
        if report is None:
            raise HarnessError(
                f"wrk gave no report for {scenario.label} (exit {result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        outcome = summarize(report, scenario, connections, url_path)
        outcome["server_log"] = log_slice
        outcome["drain_s"] = drain_s
        return outcome


def summarize(report: dict, scenario: Scenario, connections: int, path: str) -> dict:
    seconds = report["duration_us"] / 1e6
    statuses = {int(code): count for code, count in report["statuses"].items()}
    ok = sum(count for code, count in statuses.items() if 200 <= code < 300)
    errors = {k: int(report["errors"].get(k, 0)) for k in ("connect", "read", "write", "timeout")}
    percentiles = report["latency_us"]["percentiles"]
    p50 = _ms(percentiles.get("50"))
    p99 = _ms(percentiles.get("99"))
    return {
        "key": scenario.key,
        "label": scenario.label,
        "path": path,
        "connections": connections,
        "seconds": round(seconds, 2),
        "requests": report["requests"],
        "rps": round(report["requests"] / seconds, 1) if seconds else 0.0,
        "ok_rps": round(ok / seconds, 1) if seconds else 0.0,
        "p50_ms": p50,
        "p75_ms": _ms(percentiles.get("75")),
        "p90_ms": _ms(percentiles.get("90")),
        "p99_ms": p99,
        "p999_ms": _ms(percentiles.get("99.9")),
        "max_ms": _ms(report["latency_us"].get("max")),
        "p99_over_p50": round(p99 / p50, 2) if p50 and p99 else None,
        "statuses": {str(code): statuses[code] for code in sorted(statuses)},
        "non_2xx": sum(statuses.values()) - ok,
        "errors": errors,
        "socket_errors": sum(errors.values()),
    }


def _ms(microseconds) -> float | None:
    return None if microseconds is None else round(microseconds / 1000, 2)


def server_log_summary(path: Path, start: int) -> dict:
    """What the server logged from byte `start` on: errors, worker timeouts, worker restarts."""
    summary = {"error_lines": 0, "worker_timeouts": 0, "worker_boots": 0, "first_error": None}
    with path.open("rb") as log_file:
        log_file.seek(start)
        for raw in log_file:
            line = raw.decode("utf-8", "replace")
            if "WORKER TIMEOUT" in line:
                summary["worker_timeouts"] += 1
            if "Booting worker" in line:
                summary["worker_boots"] += 1
            if '"level": "ERROR"' in line or '"level": "CRITICAL"' in line or "[ERROR]" in line:
                summary["error_lines"] += 1
                if summary["first_error"] is None:
                    summary["first_error"] = line.strip()[:600]
    return summary


# --- one size -------------------------------------------------------------------------------


def run_size(size_name: str, args, stamp: str) -> dict:
    RESULTS.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix=f"socialapi-bench-{size_name}-"))
    port = args.port or free_port()
    env = server_env(size_name, args, port, run_dir / "static")
    log_path = RESULTS / f"{stamp}-{size_name}-server.log"
    server = Server(env, port, log_path)
    result = {"schema": 1, "stamp": stamp, "size": size_name}
    try:
        log(f"== size {size_name}: database {env['BENCH_DATABASE']}")
        database = prepare_database(size_name, args, env)
        log("collectstatic (as the Procfile's web process does)")
        manage(env, "collectstatic", "--noinput", "--verbosity=0")
        info = probe(env, "prepare", str(run_dir))
        result.update(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "target": vars(SIZES[size_name]),
                "database": {**database, "visible_posts": info["visible_posts"]},
                "machine": machine_info(),
                "git": git_info(),
                "server": {
                    "gunicorn": gunicorn_config(env),
                    "redis_url": env.get("REDIS_URL"),
                    "extra_env": dict(item.split("=", 1) for item in args.env),
                    "passed_env": {
                        k: os.environ[k]
                        for k in sorted(os.environ)
                        if k.startswith(("WEB_CONCURRENCY", "GUNICORN_", "CONN_MAX_AGE"))
                    },
                },
                "settings": {
                    "duration_s": args.duration,
                    "connections": args.connections,
                    "stall_connections": args.stall_connections,
                    "unloaded_duration_s": args.skip_duration,
                    "wrk_threads": args.threads,
                    "wrk_timeout_s": args.timeout,
                    "wrk": wrk_version(),
                },
                "search": {"word": info["search"], "matches": info["search_matches"]},
            }
        )
        log(f"starting gunicorn on {LOOPBACK}:{port} (log: {log_path.relative_to(ROOT)})")
        server.start()
        runner = Runner(server, info, run_dir, args)
        runner.warm_up()
        result["scenarios"] = run_scenarios(runner, info, args)
        result["unloaded"] = run_unloaded(runner, info, args)
        result["hasher"] = result["unloaded"].pop("hasher")
        if args.stall_connections:
            result["stall"] = run_stall_check(runner, args)
        result["machine"]["loadavg_end"] = list(os.getloadavg())
        result["server_log"] = server_log_summary(log_path, 0)
    finally:
        server.stop()
        try:
            if (run_dir / "vote_ids.txt").exists():  # prepared: the scenarios may have written
                probe(env, "cleanup", str(run_dir))
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
    keep_log = args.keep_log or _log_shows_trouble(result)
    if not keep_log:
        log_path.unlink(missing_ok=True)
    result["server_log_file"] = str(log_path.relative_to(ROOT)) if keep_log else None
    return result


def run_scenarios(runner: Runner, info: dict, args) -> list[dict]:
    """At each connection level: the ceiling, every scenario, the ceiling again."""
    results = []
    chosen = [s for s in scenarios(info["search"]) if not args.only or s.key in args.only]
    for connections in args.connections:
        before = step(runner, CEILING, connections, args.duration)
        level = [step(runner, s, connections, args.duration) for s in chosen]
        after = step(runner, CEILING, connections, args.duration)
        after["key"] = "ceiling_again"
        after["label"] = CEILING.label + " (again)"
        # Both ends of the level, so drift on a shared machine shows and averages out.
        ceiling = statistics.mean([before["ok_rps"], after["ok_rps"]])
        for outcome in (before, *level, after):
            outcome["ratio"] = round(outcome["ok_rps"] / ceiling, 3) if ceiling else None
            outcome["ceiling_ok_rps"] = round(ceiling, 1)
        results += [before, *level, after]
    return results


def step(runner: Runner, scenario: Scenario, connections: int, duration: int, path=None) -> dict:
    log(f"  {scenario.label}{'' if path is None else ' ' + path} at {connections} connections")
    outcome = runner.run(scenario, connections, duration, path)
    if scenario.writes:
        undone = probe(runner.server.env, "cleanup", str(runner.run_dir))
        outcome["cleanup"] = undone
    return outcome


def run_unloaded(runner: Runner, info: dict, args) -> dict:
    """One connection: what a request costs without queueing (deep skip, and a login)."""
    visible = info["visible_posts"]
    skips = sorted({s for s in DEEP_SKIPS if s < visible} | {int(visible * 0.9)})
    series = []
    for skip in skips:
        path = f"/posts/?limit=10&skip={skip}"
        scenario = Scenario("skip", "GET " + path, "get.lua", path)
        outcome = step(runner, scenario, 1, args.skip_duration)
        outcome["skip"] = skip
        outcome["skip_label"] = f"{skip} (90%)" if skip == int(visible * 0.9) else str(skip)
        series.append(outcome)
    base = series[0]["p50_ms"] if series else None
    for outcome in series:
        outcome["p50_over_skip0"] = round(outcome["p50_ms"] / base, 2) if base else None
    login = next(s for s in scenarios("x") if s.key == "login")
    # Timed here, with the server idle between runs: the quietest moment the machine offers.
    hasher = probe(runner.server.env, "hasher")
    return {
        "skip": series,
        "skipped_offsets": [s for s in DEEP_SKIPS if s >= visible],
        "hasher": hasher,
        "login": step(runner, login, 1, args.skip_duration),
    }


def run_stall_check(runner: Runner, args) -> dict:
    """Far more connections than workers: the server must queue or shed (503), never hang.

    It runs for at least twice wrk's timeout: wrk counts a request as timed out only once it
    has waited that long, which a run no longer than the timeout can never show.
    """
    scenario = Scenario("stall", "GET /posts/?limit=10", "get.lua", "/posts/?limit=10")
    connections = args.stall_connections
    outcome = step(runner, scenario, connections, max(args.duration, 2 * args.timeout))
    drained = outcome["drain_s"] if outcome["drain_s"] < 60 else None
    statuses = {int(code): n for code, n in outcome["statuses"].items()}
    server_errors = sum(n for code, n in statuses.items() if code >= 500 and code != 503)
    problems = []
    if outcome["requests"] < connections:
        # Every connection waits for its first answer: fewer answers than connections means
        # some waited the whole run.
        problems.append(f"{outcome['requests']} responses for {connections} connections")
    if outcome["errors"]["timeout"]:
        problems.append(f"{outcome['errors']['timeout']} timeouts (> {args.timeout} s)")
    if server_errors:
        problems.append(f"{server_errors} 5xx other than 503")
    if drained is None or drained > args.timeout:
        problems.append(f"requests still queued {_fmt(drained, '.0f', '60+')} s after the run")
    outcome.update(
        {
            "shed_503": statuses.get(503, 0),
            "server_errors": server_errors,
            "health_after_s": drained,
            "verdict": "ok: no stall, no 5xx" if not problems else "STALL: " + "; ".join(problems),
        }
    )
    return outcome


def _log_shows_trouble(result: dict) -> bool:
    summary = result.get("server_log") or {}
    return bool(summary.get("error_lines") or summary.get("worker_timeouts"))


# --- facts about the run --------------------------------------------------------------------


def machine_info() -> dict:
    cpu = "unknown"
    meminfo = {}
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        cpu = match.group(1).strip() if match else cpu
    if Path("/proc/meminfo").exists():
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _, value = line.partition(":")
            meminfo[key] = value.strip()
    os_name = platform.system()
    if Path("/etc/os-release").exists():
        match = re.search(r'^PRETTY_NAME="?([^"\n]+)', Path("/etc/os-release").read_text(), re.M)
        os_name = match.group(1) if match else os_name
    try:
        postgres = psql("SHOW server_version")
    except HarnessError:
        postgres = None
    return {
        "hostname": platform.node(),
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory": _gib(meminfo.get("MemTotal")),
        "os": os_name,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgres": postgres,
        "loadavg_start": list(os.getloadavg()),
    }


def _gib(kilobytes: str | None) -> str | None:
    match = re.match(r"(\d+)\s*kB", kilobytes or "")
    return f"{int(match.group(1)) / 2**20:.0f} GiB" if match else kilobytes


def git_info() -> dict:
    def git(*args):
        result = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
        )
        return result.stdout.strip() if result.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(status)}


def wrk_version() -> str:
    result = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    first = (result.stdout or result.stderr).splitlines()
    return first[0].split(" Copyright")[0].strip() if first else "wrk"


# --- output ---------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def _fmt(value, spec: str = ".1f", missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def print_report(result: dict, out=sys.stdout) -> None:
    machine = result["machine"]
    server = result["server"]["gunicorn"]
    counts = result["database"]["counts"]
    settings = result["settings"]
    git = result["git"]
    write = out.write
    write(
        f"\nsocialapi benchmark, size {result['size']} ({_counts_text(counts)}), {result['date']}\n"
    )
    write(
        f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory']}, "
        f"{machine['os']}, PostgreSQL {machine['postgres']}, Python {machine['python']}; "
        f"load {', '.join(f'{x:.2f}' for x in machine['loadavg_start'])} at start\n"
    )
    write(
        f"server: gunicorn {server['worker_class']} x {server['workers']} workers x "
        f"{server['threads']} threads, redis {result['server']['redis_url'] or 'off'}; "
        f"git {git['commit']}{' (dirty)' if git['dirty'] else ''}\n"
    )
    write(
        f"load: {settings['wrk']}, {settings['wrk_threads']} threads, {settings['duration_s']} s "
        f"per scenario, timeout {settings['wrk_timeout_s']} s\n\n"
    )
    header = (
        f"{'scenario':<38} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'p99/p50':>7} {'non-2xx':>7} {'sock err':>8} {'restarts':>8} {'drain s':>7} "
        f"{'x ceiling':>9}\n"
    )
    write(header)
    write("-" * (len(header) - 1) + "\n")
    for row in result["scenarios"]:
        write(_row(row["label"], row, _fmt(row.get("ratio"), ".2f")))
    write(
        "x ceiling: 2xx responses per second over the ceiling's (mean of its two runs)\n"
        "restarts: gunicorn workers booted during the run (max_requests recycling, crashes)\n"
        "drain s: how long requests still queued when wrk stopped took to clear (wrk cannot see\n"
        "  a request slower than the run; this can)\n"
    )

    unloaded = result.get("unloaded") or {}
    if unloaded.get("skip"):
        write(f"\ndeep skip, 1 connection, {settings['unloaded_duration_s']} s each\n")
        write(
            f"{'GET /posts/?limit=10&skip=':<38} {'conns':>5} {'req/s':>8} {'p50 ms':>8} "
            f"{'p99 ms':>8} {'p99/p50':>7} {'non-2xx':>7} {'sock err':>8} {'restarts':>8} "
            f"{'drain s':>7} {'x skip=0':>9}\n"
        )
        for row in unloaded["skip"]:
            write(_row(row["skip_label"], row, _fmt(row.get("p50_over_skip0"), ".2f")))
        if unloaded.get("skipped_offsets"):
            skipped = ", ".join(str(s) for s in unloaded["skipped_offsets"])
            write(f"(skip {skipped}: beyond the {result['database']['visible_posts']:,} posts)\n")

    stall = result.get("stall")
    if stall:
        write(
            f"\nstall check: GET /posts/?limit=10 at {stall['connections']} connections for "
            f"{stall['seconds']:.0f} s: "
            f"{stall['rps']:.1f} req/s, p50 {_fmt(stall['p50_ms'])} ms, "
            f"p99 {_fmt(stall['p99_ms'])} ms, statuses {stall['statuses']}, "
            f"503 shed {stall['shed_503']}, other 5xx {stall['server_errors']}, "
            f"socket errors {stall['errors']}, "
            f"backlog drained {_fmt(stall['health_after_s'], '.2f')} s after the run "
            f"-> {stall['verdict']}\n"
        )

    hasher = result["hasher"]
    login_rows = [r for r in result["scenarios"] if r["key"] == "login"]
    params = ", ".join(f"{k}={v}" for k, v in hasher["params"].items())
    write(f"\nPOST /login: password hasher {hasher['algorithm']} ({params})\n")
    write(
        f"  one hash in-process: {hasher['hash_ms']:.1f} ms median, {hasher['hash_ms_min']:.1f} "
        f"ms min, {hasher['hash_cpu_ms']:.1f} ms CPU (runs: {hasher['hash_ms_all']} ms)\n"
    )
    if unloaded.get("login"):
        alone = unloaded["login"]
        write(
            f"  1 connection: {alone['rps']:.1f} req/s, p50 {_fmt(alone['p50_ms'])} ms "
            f"(the fastest hash is {_share(hasher['hash_ms_min'], alone['p50_ms'])} of it)\n"
        )
    for row in login_rows:
        cpu = row["ok_rps"] * hasher["hash_cpu_ms"] / 1000
        write(
            f"  {row['connections']} connections: {row['rps']:.1f} req/s, p50 "
            f"{_fmt(row['p50_ms'])} ms; hashing alone takes {cpu:.2f} of the "
            f"{machine['cores']} cores\n"
        )

    trouble = result.get("server_log") or {}
    write(
        f"\nserver log: {trouble.get('error_lines', 0)} error lines, "
        f"{trouble.get('worker_timeouts', 0)} worker timeouts, "
        f"{trouble.get('worker_boots', 0)} worker boots"
    )
    if result.get("server_log_file"):
        write(f" (kept: {result['server_log_file']})")
    write("\n")
    if trouble.get("first_error"):
        write(f"  first error: {trouble['first_error']}\n")
    for row in result["scenarios"] + [stall or {}]:
        slice_ = row.get("server_log") or {}
        if slice_.get("error_lines") or slice_.get("worker_timeouts"):
            write(
                f"  during {row['label']} at {row['connections']}: {slice_['error_lines']} "
                f"error lines, {slice_['worker_timeouts']} worker timeouts\n"
            )


def _row(label: str, row: dict, last: str) -> str:
    return (
        f"{label[:38]:<38} {row['connections']:>5} {row['rps']:>8.1f} {_fmt(row['p50_ms']):>8} "
        f"{_fmt(row['p99_ms']):>8} {_fmt(row['p99_over_p50'], '.1f'):>7} {row['non_2xx']:>7} "
        f"{row['socket_errors']:>8} {row['server_log']['worker_boots']:>8} "
        f"{_fmt(row.get('drain_s')):>7} {last:>9}\n"
    )


def _share(part, whole) -> str:
    return f"{part / whole:.0%}" if part and whole else "-"


def latest_per_size(results_dir: Path, like: dict) -> dict[str, dict]:
    """The newest saved result of each size comparable to `like`, for the size chart.

    Comparable: the same first connection level and duration, Redis on or off alike, the same
    --env.
    """
    latest = {}
    for path in sorted(results_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if (
            data.get("schema") == 1
            and data.get("size") in SIZES
            and _first(data.get("scenarios", []), "posts_limit10", "p50_ms") is not None
            and _comparable(data) == _comparable(like)
        ):
            latest[data["size"]] = data  # sorted by stamp: the last one wins
    return latest


def _comparable(result: dict) -> tuple:
    server = result["server"]
    return (
        result["settings"]["connections"][0],
        result["settings"]["duration_s"],
        bool(server.get("redis_url")),
        sorted(server.get("extra_env", {}).items()),
    )


def draw_chart(result: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ratios, by_size, skips) = plt.subplots(
        1, 3, figsize=(18, 6), gridspec_kw={"width_ratios": [1.4, 1, 1]}
    )
    fig.suptitle(
        f"socialapi, size {result['size']}, {result['date']} "
        f"(git {result['git']['commit']}{', dirty' if result['git']['dirty'] else ''}), "
        f"{result['machine']['cores']} cores"
    )

    levels = sorted({row["connections"] for row in result["scenarios"]})
    labels = list(dict.fromkeys(row["label"] for row in result["scenarios"]))
    height = 0.8 / len(levels)
    for i, connections in enumerate(levels):
        rows = {r["label"]: r for r in result["scenarios"] if r["connections"] == connections}
        values = [rows[label]["ratio"] or 0 if label in rows else 0 for label in labels]
        positions = [y + i * height for y in range(len(labels))]
        bars = ratios.barh(positions, values, height=height, label=f"{connections} connections")
        ratios.bar_label(bars, fmt="%.2f", fontsize=8, padding=2)
    ratios.set_yticks([y + height * (len(levels) - 1) / 2 for y in range(len(labels))], labels)
    ratios.invert_yaxis()
    ratios.axvline(0.5, linestyle="--", linewidth=1, color="grey", label="target: list 0.5")
    ratios.axvline(0.6, linestyle=":", linewidth=1, color="grey", label="target: by id 0.6")
    ratios.set_xlabel("2xx req/s as a share of the ceiling's")
    ratios.set_title("Throughput relative to the ceiling")
    ratios.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=8)

    runs = latest_per_size(RESULTS, result)
    runs[result["size"]] = result
    ordered = sorted(runs.values(), key=lambda r: r["database"]["counts"]["posts"])
    xs = [r["database"]["counts"]["posts"] for r in ordered]
    loaded = [_first(r["scenarios"], "posts_limit10", "p50_ms") for r in ordered]
    alone = [_first((r.get("unloaded") or {}).get("skip", []), "skip", "p50_ms") for r in ordered]
    connections = result["settings"]["connections"][0]
    by_size.plot(xs, loaded, marker="o", label=f"{connections} connections")
    by_size.plot(xs, alone, marker="s", label="1 connection (skip=0)")
    for x, high, low in zip(xs, loaded, alone, strict=True):
        for y in (high, low):
            if y:
                by_size.annotate(
                    f"{y:.0f} ms", (x, y), fontsize=7, xytext=(4, 4), textcoords="offset points"
                )
    by_size.set_xscale("log")
    by_size.set_yscale("log")
    by_size.set_xticks(xs, [f"{r['size']}\n{x:,}" for r, x in zip(ordered, xs, strict=True)])
    by_size.minorticks_off()
    by_size.set_xlabel("posts (latest comparable result of each size)")
    by_size.set_ylabel("p50 latency, ms (log)")
    by_size.set_title("GET /posts/?limit=10 p50 against database size")
    by_size.legend(fontsize=8)
    if len(ordered) < 2:
        by_size.text(
            0.5,
            0.5,
            "one size so far:\nrun --sizes 10k,100k,1m",
            transform=by_size.transAxes,
            ha="center",
            fontsize=9,
            color="grey",
        )

    series = (result.get("unloaded") or {}).get("skip", [])
    names = [row["skip_label"].replace(" ", "\n") for row in series]
    skips.bar(names, [row["p50_ms"] or 0 for row in series], label="p50")
    skips.plot(names, [row["p99_ms"] or 0 for row in series], "k^", label="p99")
    skips.set_xlabel("skip")
    skips.set_ylabel("latency, ms (1 connection)")
    skips.set_title("GET /posts/?limit=10&skip=N")
    skips.legend(fontsize=8)

    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)


def _first(rows, key: str, field: str):
    return next((row[field] for row in rows if row.get("key") == key), None)


# --- main -----------------------------------------------------------------------------------


def _terminate(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through every finally: gunicorn is stopped


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        ensure_venv()
    except HarnessError as error:
        log(f"error: {error}")
        return 2
    if args.report:
        result = json.loads(args.report.read_text())
        print_report(result)
        if not args.no_chart and ensure_matplotlib():
            png = args.report.with_suffix(".png")
            draw_chart(result, png)
            log(f"chart: {png}")
        return 0
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    try:
        ensure_tools()
        ensure_postgres()
        charts = not args.no_chart and ensure_matplotlib()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        for size_name in args.sizes:
            result = run_size(size_name, args, stamp)
            path = RESULTS / f"{stamp}-{size_name}.json"
            path.write_text(json.dumps(result, indent=2) + "\n")
            print_report(result)
            log(f"results: {path.relative_to(ROOT)}")
            if charts:
                png = path.with_suffix(".png")
                draw_chart(result, png)
                log(f"chart: {png.relative_to(ROOT)}")
    except HarnessError as error:
        log(f"error: {error}")
        return 2
    except KeyboardInterrupt:
        log("interrupted: the server is stopped and the database cleaned up")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
