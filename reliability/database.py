"""The private cluster's database: created, migrated and seeded before a run, cleaned up after.

Every run starts alike: seed_demo tops the seed up (a second run adds nothing) and the cleanup
undoes the run's own writes. bench/probe.py does the looking inside, as it does for bench/.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench import seeding
from bench.common import HarnessError
from deploy.postgres import Cluster, ClusterError
from reliability.common import DATABASE, DSN, log

SEED = {"users": 1_000, "posts": 10_000, "votes": 50_000, "comments": 2_000}


def connect():
    """A connection to the run's database, for checks that look at what it holds."""
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


def clean_database(cluster: Cluster, env: dict, run_dir: Path) -> None:
    """Undo the run's writes (its posts, the demo account's votes), so every run starts alike."""
    try:
        if not cluster.ready():
            cluster.start()  # a fault run stopped it and failed before starting it again
        undone = seeding.probe(env, "cleanup", str(run_dir))
        log(f"cleanup: {undone['posts_deleted']} posts and {undone['votes_deleted']} votes removed")
    except (HarnessError, ClusterError, subprocess.SubprocessError) as error:
        log(f"cleanup failed: {error}")


def release_cluster(cluster: Cluster, drop: bool) -> None:
    """Stop the private cluster after a run (its data stays for the next), or drop it."""
    try:
        if drop:
            cluster.drop()
        elif cluster.ready():
            log("stopping the private cluster (its data stays; --cleanup-only drops it)")
            cluster.stop()
    except (HarnessError, ClusterError, subprocess.SubprocessError) as error:
        log(f"could not release the private cluster: {error}")
