"""The API under test: gunicorn as deployed (gunicorn.conf.py, DEBUG off) on loopback.

bench/servers.py starts, stops and logs into it; this module points it at the private cluster's
database, waits for every worker and finds them, and keeps the log of a run that went wrong.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from bench import servers
from bench.common import LOOPBACK, ROOT, HarnessError
from reliability.common import DSN, log


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


def start_server(server: servers.Server) -> dict:
    """Start gunicorn and wait for all its workers; gunicorn.conf.py's resolved settings."""
    config = servers.gunicorn_config(server.env)
    log(
        f"starting gunicorn on {LOOPBACK}:{server.port}: {config['workers']} "
        f"{config['worker_class']} workers x {config['threads']} threads "
        f"(log: {server.log_path.relative_to(ROOT)})"
    )
    server.start()
    wait_for_workers(server.process.pid, config["workers"], 60)
    return config


def stop_server(server: servers.Server, keep_log: bool) -> None:
    """Stop gunicorn; its log is kept only when asked (a clean run's log says nothing)."""
    server.stop()
    if keep_log:
        log(f"server log kept: {server.log_path.relative_to(ROOT)}")
    else:
        server.log_path.unlink(missing_ok=True)


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


def server_log_line(log_path: Path) -> str:
    summary = servers.server_log_summary(log_path, 0)
    return (
        f"server log: {summary['error_lines']} error lines, {summary['worker_timeouts']} worker "
        f"timeouts, {summary['worker_boots']} worker boots"
    )
