"""One reliability run: the arguments, the lock, set-up, the check's body, the verdict, tear-down.

A check (soak.py, db_fault.py, worker_fault.py) is a function of a Context, a running server
with a logged-in demo account, that returns its summary and the requirements it found unmet;
main() does the rest, and whatever happens stops gunicorn, cleans the database up and stops
the private cluster, within a bounded time.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench import machine, servers
from bench.common import LOOPBACK, HarnessError, ensure_venv
from deploy.postgres import Cluster, ClusterError
from reliability.common import CLUSTER, HERE, LOGS, PG_PORT, log
from reliability.database import clean_database, prepare_database, release_cluster
from reliability.load import Load
from reliability.server import server_env, start_server, stop_server

LOCK_FILE = Path(tempfile.gettempdir()) / "socialapi-reliability.lock"
# Setup (cluster, migrate, seed) and teardown may take this long beyond the load itself.
SETUP_BUDGET_SECONDS = 600


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
    cluster: Cluster
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
        ensure_venv()
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
            cluster = Cluster(CLUSTER, PG_PORT, log)
            if args.cleanup_only:
                cluster.drop()
                return 0
            summary, problems = _run_once(name, args, cluster, body, stack)
        except (HarnessError, ClusterError, subprocess.CalledProcessError) as error:
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
    stack.callback(release_cluster, cluster, args.cleanup)
    cluster.ensure_running()
    port = args.port or servers.free_port()
    env = server_env(port, run_dir / "static", args.env)
    info = prepare_database(env, run_dir)
    stack.callback(clean_database, cluster, env, run_dir)
    log_path = LOGS / f"{stamp}-{name}-server.log"
    server = servers.Server(env, port, log_path)

    def stop(exc_type, exc, traceback):
        # The log of a run that failed, or ended in an error, is kept for a look.
        stop_server(server, args.keep_log or exc_type is not None)

    stack.push(stop)
    config = start_server(server)
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
