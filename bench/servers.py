"""The server under test: gunicorn as deployed, on loopback, and the HTTP calls made to it."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import LOOPBACK, ROOT, HarnessError
from bench.seeding import PG_PORT, PG_USER

REDIS_PORT = 6379
# The throttles would turn a benchmark into a 429 benchmark: every rate far above any run.
THROTTLE_VARS = (
    "THROTTLE_ANON",
    "THROTTLE_USER",
    "THROTTLE_SIGNUP",
    "THROTTLE_LOGIN",
    "THROTTLE_LOGIN_EMAIL",
    "THROTTLE_COMMENT",
)
HIGH_RATE = "1000000/min"
# Logins at once: each is an Argon2 hash, and more at a time only queue on the server's cores.
LOGIN_THREADS = 8


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


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


_READ_CACHE = re.compile(r'^socialapi_read_cache_total\{result="(hit|miss)"\} ([0-9.e+]+)$', re.M)


def read_cache_counts(port: int) -> dict[str, float] | None:
    """{"hit": n, "miss": n}: the read cache's lookups so far, over every worker (GET /metrics,
    which answers loopback); None when the server has no such counts to give."""
    try:
        status, body = http_request(port, "GET", "/metrics")
    except OSError:
        return None
    if status != 200:
        return None
    counts = {result: float(value) for result, value in _READ_CACHE.findall(body.decode())}
    return {"hit": counts.get("hit", 0.0), "miss": counts.get("miss", 0.0)}


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


def login_tokens(port: int, emails: list[str], password: str) -> list[str]:
    """A token for each of `emails`, in order, logged in LOGIN_THREADS at a time."""
    with ThreadPoolExecutor(max_workers=LOGIN_THREADS) as pool:
        return list(pool.map(lambda email: login_token(port, email, password), emails))
