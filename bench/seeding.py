"""The size's database: PostgreSQL up, created, migrated, seeded by seed_demo, looked into."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import BENCH, LOOPBACK, ROOT, HarnessError, log

PG_PORT = 5432
PG_USER = "postgres"


@dataclass(frozen=True)
class Size:
    users: int
    posts: int
    votes: int
    comments: int


SIZES = {
    "10k": Size(users=1_000, posts=10_000, votes=50_000, comments=2_000),
    "100k": Size(users=1_000, posts=100_000, votes=500_000, comments=20_000),
    "1m": Size(users=1_000, posts=1_000_000, votes=5_000_000, comments=200_000),
}


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
    seeded_before = (
        counts["users"] > size.users
        and counts["posts"] >= size.posts
        and counts["votes"] >= size.votes
        and counts["comments"] >= size.comments
    )
    seed_seconds = None
    if args.skip_seed:
        if not seeded_before:
            log(f"--skip-seed: the database holds {counts}, less than the {size_name} size")
    elif seeded_before:
        log(f"reusing {env['BENCH_DATABASE']}: already seeded ({counts_text(counts)})")
    else:
        log(
            f"seeding {size_name}: {size.users} users, {size.posts} posts, {size.votes} votes, "
            f"{size.comments} comments"
        )
        started = time.monotonic()
        manage(
            env,
            "seed_demo",
            f"--users={size.users}",
            f"--posts={size.posts}",
            f"--votes={size.votes}",
            f"--comments={size.comments}",
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


def counts_text(counts: dict) -> str:
    kinds = ("users", "posts", "votes", "comments")  # (a result saved before comments: none)
    return ", ".join(f"{counts[k]:,} {k}" for k in kinds if k in counts)
