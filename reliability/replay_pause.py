"""Check `replay_pause`: the replica's replay paused under load; nobody reads stale data.

The members' load (members.py) runs through nginx, every member writing (posts, edits,
deletes, votes, comments) and reading each write back at once. At --pause-at s the replica
stops replaying WAL (`SELECT pg_wal_replay_pause()`; it still receives it) for --pause-for s,
then resumes. Requirements:
- every read-back shows the member's own write: 0 violations, before, during and after;
- the replica really was behind at the end of the pause: WAL bytes not replayed, and the run's
  posts counted on the primary and on the replica;
- nothing stale cached: once the load has stopped and the replica has caught up, every cached
  path of --sample members (posts list, their posts by id, their profile, feed, threads,
  notifications), read through nginx and from each instance directly, equals what a server
  with no cache and no replica (API_CACHE=false, on the primary) answers: 0 mismatches;
- no 5xx, no socket error, no acknowledged write lost.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from concurrent.futures import ThreadPoolExecutor

from bench.common import HarnessError
from bench.servers import http_request
from deploy.postgres import MAIN_PORT, psql
from reliability import cluster_load, observe
from reliability.cluster_load import DATABASE, Context, cluster
from reliability.common import TITLE_PREFIX, log
from reliability.member_report import (
    answers_line,
    checks_line,
    member_problems,
    verify_member_writes,
    writes_line,
)
from reliability.members import ENDPOINTS, MemberLoad
from reliability.report import endpoint_table, failure_problems, tally

REPLICA, PRIMARY = cluster.REPLICA_PORT, MAIN_PORT


def replay_pause(ctx: Context) -> tuple[str, list[str]]:
    args = ctx.args
    load = ctx.member_load()
    oracle_env = {k: v for k, v in ctx.env.items() if k != "REDIS_URL"}
    oracle = cluster_load.lone_server(
        oracle_env,
        "oracle",
        ctx.tag,
        API_CACHE="false",
        NUM_PROXIES="0",
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="4",
    )
    ev: dict = {}

    async def pause_replay(load) -> None:
        await asyncio.sleep(args.pause_at)
        await asyncio.to_thread(sql, REPLICA, "SELECT pg_wal_replay_pause()")
        ev["paused"] = load.now()
        log(f"replica replay paused at {ev['paused']:.2f} s")
        try:
            await asyncio.sleep(max(0.0, args.pause_for - 0.3))
            ev["behind"] = await asyncio.to_thread(behind, ctx.tag)
        finally:  # whatever happens: `up` would reuse a paused replica as it is
            sql(REPLICA, "SELECT pg_wal_replay_resume()")
        ev["resumed"] = load.now()
        log(f"replica replay resumed at {ev['resumed']:.2f} s")

    try:
        log(
            f"replay_pause: {args.duration} s of member load through nginx at "
            f"{args.connections} connections; replay paused at {args.pause_at} s for "
            f"{args.pause_for} s"
        )
        with observe.Scraper() as scraper:
            asyncio.run(load.run(args.duration, during=pause_replay))
        caught_up_s = catch_up()
        log(f"the replica caught up {caught_up_s:.2f} s after the load; comparing with the oracle")
        compared = compare(load, oracle.port, args.sample, args.seed)
    finally:
        oracle.stop()
        oracle.log_path.unlink(missing_ok=True)
    totals = tally(load.samples)
    writes = verify_member_writes(load, cluster_load.connect)
    paused, resumed, lag = ev["paused"], ev["resumed"], ev["behind"]
    phases = {
        "before the pause": (0.0, paused),
        "during the pause": (paused, resumed),
        "after it": (resumed, load.seconds + 1),
    }
    scraper.t0 = load.t0

    problems = member_problems(load, writes)
    if compared["mismatches"]:
        problems.append(f"{len(compared['mismatches'])} cached reads differ from the truth")
    if lag["bytes_behind"] <= 0:
        problems.append("the replica was not behind at the end of the pause")
    problems += failure_problems(totals)

    lines = []
    for name, (start, end) in phases.items():
        deltas = scraper.between(start, min(end, load.seconds))
        lines.append("  " + observe.share_line(deltas, f"queries {name}"))
        chosen = [c for c in load.checks if start <= c.at < end]
        lines.append("  " + checks_line(chosen, f"read-backs {name}").replace("\n", "\n  "))
    mismatch_lines = [f"  {m}" for m in compared["mismatches"][:10]]
    summary = "\n".join(
        [
            f"replay_pause: {load.seconds:.1f} s, {totals['requests']:,} requests through nginx "
            f"by {len(load.members)} members; replay paused {paused:.2f} s to {resumed:.2f} s",
            "",
            endpoint_table(load.samples, load.seconds, ENDPOINTS),
            "",
            answers_line(load, totals),
            f"the replica at the end of the pause ({lag['state']}): replayed {lag['replica_lsn']}, "
            f"the primary at {lag['primary_lsn']}: {lag['bytes_behind']:,} bytes of WAL behind; "
            f"the run's posts: {lag['primary_posts']:,} on the primary, {lag['replica_posts']:,} "
            f"on the replica",
            *lines,
            checks_line(load.checks, "read-your-writes, whole run"),
            f"stale cache: the replica caught up {caught_up_s:.2f} s after the load; "
            f"{compared['members']} members, {compared['paths']} cached paths, each read through "
            f"nginx, from 8001 and from 8002 ({compared['reads']:,} reads) and compared with a "
            f"server without cache or replica: {len(compared['mismatches'])} mismatches",
            *mismatch_lines,
            writes_line(writes),
        ]
    )
    return summary, problems


def sql(port: int, statement: str) -> list[list[str]]:
    return psql(port, statement, database=DATABASE)


def behind(tag: str) -> dict:
    """How far the paused replica is behind the primary, in WAL bytes and in the run's posts."""
    posts = f"(SELECT count(*) FROM posts_post WHERE title LIKE '{TITLE_PREFIX}{tag} %')"
    replica_lsn, state, replica_posts = sql(
        REPLICA, f"SELECT pg_last_wal_replay_lsn(), pg_get_wal_replay_pause_state(), {posts}"
    )[0]
    primary_lsn, diff, primary_posts = sql(
        PRIMARY,
        f"SELECT pg_current_wal_lsn(), pg_wal_lsn_diff(pg_current_wal_lsn(), '{replica_lsn}'), "
        f"{posts}",
    )[0]
    return {
        "state": state,
        "replica_lsn": replica_lsn,
        "primary_lsn": primary_lsn,
        "bytes_behind": int(float(diff)),
        "replica_posts": int(replica_posts),
        "primary_posts": int(primary_posts),
    }


def catch_up(seconds: float = 60) -> float:
    """Seconds until the replica has replayed all the primary had written when asked."""
    started = time.monotonic()
    target = sql(PRIMARY, "SELECT pg_current_wal_lsn()")[0][0]
    while sql(REPLICA, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")[0][0] != "t":
        if time.monotonic() - started > seconds:
            raise HarnessError(f"the replica did not catch up within {seconds} s")
        time.sleep(0.05)
    return time.monotonic() - started


def cached_paths(load: MemberLoad, member) -> list[str]:
    """What the read cache keeps for a member: lists, its posts, its profile, feed, threads."""
    own = sorted(member.posts)[-3:]
    voted = [post for post, state in member.votes.items() if state is not None][:3]
    gone = [p for p in sorted(load.deleted) if load.created.get(p) == member.id][:1]
    return [
        "/posts/?limit=10",
        "/users/me",
        f"/users/{member.id}",
        "/feed?limit=20",
        "/notifications?limit=20",
        *(f"/posts/{post}" for post in own + voted + gone),
        *(f"/posts/{post}/comments?limit=100" for post in own[:2]),
    ]


def compare(load: MemberLoad, oracle_port: int, sample: int, seed: int) -> dict:
    """Each path read from the cluster (nginx, 8001, 8002), then from the oracle: what differs."""
    rng = random.Random(seed)
    members = rng.sample(load.members, min(sample, len(load.members)))
    items = [(m, path) for m in members for path in cached_paths(load, m)]
    ports = (cluster.NGINX_PORT, *cluster.APP_PORTS)

    def one(item) -> list[str]:
        member, path = item
        seen = [(port, _get(port, path, member.headers)) for port in ports]
        truth = _get(oracle_port, path, member.headers)
        return [
            f"member {member.id} {path} via {port}: {_short(answer)} != truth {_short(truth)}"
            for port, answer in seen
            if answer != truth
        ]

    with ThreadPoolExecutor(max_workers=6) as pool:
        mismatches = [line for lines in pool.map(one, items) for line in lines]
    return {
        "members": len(members),
        "paths": len(items),
        "reads": len(items) * (len(ports) + 1),
        "mismatches": mismatches,
    }


def _get(port: int, path: str, headers: dict):
    status, body = http_request(port, "GET", path, headers=headers, timeout=30)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def _short(answer) -> str:
    return json.dumps(answer, default=str)[:300]
