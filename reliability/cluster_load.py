"""The cluster under the scale-out checks: deploy/cluster.py's, on a database of its own.

set_up() seeds socialapi_scale on the main PostgreSQL at bench's 10k size (bench/seeding.py),
brings the cluster up on it (`deploy/cluster.py up`, CLUSTER_DATABASE), gives bench's members
their id files, vote pools and follows (bench/probe.py prepare) and their tokens; tear_down()
undoes the run's writes (bench/probe.py cleanup) and takes the cluster down.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench import seeding, servers
from bench.common import LOOPBACK, ROOT, HarnessError
from reliability.common import log

DATABASE = "socialapi_scale"
SIZE = "10k"  # bench's: 1,000 users, 10,000 posts, 50,000 votes, 2,000 comments
MEMBERS = 200
# Read by deploy/cluster.py when it is imported, and by its command line, which inherits it.
os.environ["CLUSTER_DATABASE"] = DATABASE

from deploy import cluster  # noqa: E402
from deploy.postgres import MAIN_PORT, psql  # noqa: E402

DSN = f"postgresql://postgres@{LOOPBACK}:{MAIN_PORT}/{DATABASE}"
CLUSTER_CLI = ROOT / "deploy" / "cluster.py"


@dataclass
class Context:
    """What a check gets: the cluster up on DATABASE, bench's members and their tokens."""

    args: argparse.Namespace
    env: dict  # the app's on the primary alone, Redis included: manage.py, probe.py, servers
    info: dict  # bench/probe.py prepare's
    run_dir: Path
    members: list[dict]  # {"email", "id", "token", "pool"}
    tag: str

    def member_load(self, port: int = cluster.NGINX_PORT):
        from reliability.members import MemberLoad

        return MemberLoad(port, self.members, self.info, self.run_dir, self.args, self.tag)


def cluster_cli(*args: str, quiet: bool = False) -> int:
    """`deploy/cluster.py <args>` as a user runs it; its log goes to our stderr."""
    result = subprocess.run(
        [sys.executable, str(CLUSTER_CLI), *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL if quiet else sys.stderr,
        timeout=900,
        check=False,
    )
    return result.returncode


def ensure_up() -> None:
    """Every part of the cluster up (after a check that stopped one): `up` restarts what is not."""
    if cluster_cli("status", quiet=True) != 0:
        log("a part of the cluster is down: deploy/cluster.py up")
        if cluster_cli("up") != 0:
            raise HarnessError("deploy/cluster.py up failed (its log is above)")


def connect():
    """psycopg on the primary's DATABASE, autocommit: the truth, for comparisons."""
    import psycopg

    return psycopg.connect(DSN, connect_timeout=10, autocommit=True)


def set_up(args, run_dir: Path, tag: str) -> Context:
    if cluster.DATABASE != DATABASE:
        raise HarnessError("deploy.cluster was imported before CLUSTER_DATABASE was set")
    if any(cluster.app_pid(port) for port in cluster.APP_PORTS) or cluster.nginx_pid():
        # Its servers may serve another database (make cluster's): start again on ours.
        log("the cluster runs: taking it down to start it on " + DATABASE)
        if cluster_cli("down") != 0:
            raise HarnessError("deploy/cluster.py down failed (its log is above)")
    cluster.RUN_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    env = {**cluster.app_env(), "BENCH_DATABASE": DATABASE}
    database = seeding.prepare_database(SIZE, argparse.Namespace(fresh=False, skip_seed=False), env)
    log(f"{DATABASE}: {seeding.counts_text(database['counts'])}; deploy/cluster.py up")
    if cluster_cli("up") != 0:
        raise HarnessError("deploy/cluster.py up failed (its log is above)")
    info = seeding.probe(env, "prepare", str(run_dir), f"--members={MEMBERS}")
    minted = subprocess.run(
        [sys.executable, str(ROOT / "reliability" / "member_tokens.py"), str(run_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if minted.returncode != 0:
        raise HarnessError(f"reliability/member_tokens.py failed:\n{minted.stderr.strip()}")
    members = json.loads((run_dir / "members.json").read_text())
    log(f"{len(members)} members with their own tokens and vote pools")
    return Context(args, env, info, run_dir, members, tag)


def clean(ctx: Context) -> None:
    """Undo the members' writes (their posts, comments, pool votes): each check starts alike."""
    undone = seeding.probe(ctx.env, "cleanup", str(ctx.run_dir))
    log(
        f"cleanup: {undone['posts_deleted']} posts, {undone['comments_deleted']} comments and "
        f"{undone['votes_deleted']} votes removed"
    )


def tear_down(ctx: Context | None, keep_cluster: bool) -> None:
    """Undo the run's writes (on the primary, with Redis: no app server needed), then `down`."""
    try:
        if ctx is not None:
            clean(ctx)
        if keep_cluster:
            ensure_up()  # what a check that failed half-way left down
    except (HarnessError, subprocess.SubprocessError) as error:
        log(f"cleanup failed: {error}")
    if keep_cluster:
        log("--keep-cluster: the cluster stays up (make cluster-down)")
    elif cluster_cli("down") != 0:
        log("deploy/cluster.py down failed: run `make cluster-down`")


def database_size() -> str:
    return psql(MAIN_PORT, f"SELECT pg_size_pretty(pg_database_size('{DATABASE}'))")[0][0]


# --- a gunicorn of our own beside the cluster -------------------------------------------------


def lone_server(env: dict, name: str, stamp: str, **settings: str) -> servers.Server:
    """gunicorn.conf.py on a free port with `env` and `settings` (the caller stops it)."""
    from reliability.common import LOGS

    LOGS.mkdir(parents=True, exist_ok=True)
    port = servers.free_port()
    env = {**env, "PORT": str(port), **settings}
    server = servers.Server(env, port, LOGS / f"{stamp}-scale-{name}.log")
    given = ", ".join(f"{k}={v}" for k, v in settings.items())
    log(f"starting {name} gunicorn on {LOOPBACK}:{port} ({given})")
    server.start()
    return server
