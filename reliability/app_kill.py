"""Check `app_kill`: SIGKILL one app instance (master and workers) under load through nginx.

The members' load (members.py) runs through nginx; at --kill-at s gunicorn on 8001 and all its
workers get SIGKILL at once (one process group); --restart-after s later `deploy/cluster.py up`
starts it again (and reloads nginx), and the load goes on for --after-up s more. Requirements:
- no GET, PUT or DELETE fails (nginx passes an idempotent request on to the other instance);
- a POST fails only if it was in flight at the kill: sent before it and answered after it, or
  sent within --grace s after it (nginx may still pass it down a keepalive connection to the
  dead instance before it has seen that connection close; its error log says which). nginx
  never passes a POST on once sent, so such a write is lost to the client, not done twice;
- from 1 s after the kill until `up` starts the surviving instance answers every request
  (nginx's access log), every member reads back what it wrote, no acknowledged write is lost
  or doubled: the load retries each failed POST under its Idempotency-Key (members.py), and
  reports how the writes of those that failed at the kill ended, by key;
- after `up`, the restarted instance answers at least --min-share of the requests again.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from pathlib import Path

from bench.common import LOOPBACK
from reliability import cluster_load, observe
from reliability.cluster_load import Context, cluster
from reliability.common import log
from reliability.member_report import (
    by_method,
    checks_line,
    expected_4xx,
    member_problems,
    method_lines,
    unexpected_4xx,
    verify_member_writes,
    writes_line,
)
from reliability.members import ENDPOINTS, METHOD
from reliability.report import endpoint_table, tally, timeline
from reliability.server import worker_pids


def app_kill(ctx: Context) -> tuple[str, list[str]]:
    args = ctx.args
    port = cluster.APP_PORTS[0]
    victim = f"{LOOPBACK}:{port}"
    load = ctx.member_load()
    marks: dict[float, str] = {}
    ev: dict = {}

    async def kill_and_restart(load) -> None:
        await asyncio.sleep(args.kill_at)
        pid = cluster.app_pid(port)
        workers = sorted(worker_pids(pid))
        leftovers = metrics_dirs(workers)
        ev["mark_kill"] = observe.access_mark()
        ev["mark_errors"] = observe.access_mark(observe.ERROR_LOG)
        ev["kill_at"] = load.now()
        os.killpg(pid, signal.SIGKILL)  # start_new_session: the group is the master's pid
        ev.update(pid=pid, workers=workers)
        marks[ev["kill_at"]] = f"SIGKILL gunicorn {port}: master {pid}, workers {workers}"
        log(f"killed gunicorn on {port} (master {pid}, workers {workers}) at {ev['kill_at']:.2f} s")
        for path in leftovers:  # gunicorn.conf.py's on_exit never runs after a SIGKILL
            shutil.rmtree(path, ignore_errors=True)
        await asyncio.sleep(1)  # what the dead instance was answering is logged by now
        ev["mark_settled"] = observe.access_mark()
        await asyncio.sleep(max(0.0, args.restart_after - 1))
        ev["up_at"] = load.now()
        ev["mark_up_start"] = observe.access_mark()
        marks[ev["up_at"]] = "deploy/cluster.py up"
        ev["up_rc"] = await asyncio.to_thread(cluster_load.cluster_cli, "up")
        ev["mark_up"] = observe.access_mark()
        ev["up_done"] = load.now()
        marks[ev["up_done"]] = f"up done (exit {ev['up_rc']}): {port} serves again"
        log(f"deploy/cluster.py up exited {ev['up_rc']} at {ev['up_done']:.2f} s")
        await asyncio.sleep(args.after_up)
        load.stop()

    log(
        f"app_kill: member load through nginx at {args.connections} connections; SIGKILL "
        f"gunicorn {port} at {args.kill_at} s, `up` {args.restart_after} s later, then "
        f"{args.after_up} s more"
    )
    start_mark = observe.access_mark()
    # Until --after-up s after `up` returns (it migrates and collects static files first).
    longest = args.kill_at + args.restart_after + args.after_up + 180
    asyncio.run(load.run(longest, during=kill_and_restart))
    end_mark = observe.access_mark()
    nginx_errors = observe.upstream_errors(ev["mark_errors"])
    samples = load.samples
    totals = tally(samples)
    methods = by_method(samples)
    kill_at = ev["kill_at"]
    failed = [s for s in samples if s.failed]
    across = [s for s in samples if s.started <= kill_at <= s.ended]
    idempotent_failed = [s for s in failed if _method(s) != "POST"]
    posts_failed = [s for s in failed if _method(s) == "POST"]
    in_flight = [s for s in posts_failed if s.started <= kill_at <= s.ended]
    just_after = [s for s in posts_failed if kill_at < s.started <= kill_at + args.grace]
    post_failed_late = [s for s in posts_failed if s not in in_flight and s not in just_after]
    # The logical writes (by key) of the POSTs that failed at the kill, and how they ended.
    keys = {s.key for s in in_flight + just_after}
    kill_writes = [w for w in load.writes if w.key in keys]
    writes = verify_member_writes(load, cluster_load.connect)

    before = upstream_line(observe.access_entries(start_mark, ev["mark_kill"]))
    around = observe.access_entries(ev["mark_kill"], ev["mark_settled"])
    down_rows = observe.access_entries(ev["mark_settled"], ev["mark_up_start"])
    after_rows = observe.access_entries(ev["mark_up"], end_mark)
    on_dead = [r for r in down_rows if r["upstreams"][-1] == victim]
    retried = [r for r in around + down_rows if len(r["upstreams"]) > 1]
    dead_around = [r for r in around if r["upstreams"][-1] == victim]
    after_shares = observe.upstream_shares(after_rows)
    victim_share = after_shares.get(victim, 0) / len(after_rows) if after_rows else 0.0

    problems = []
    if idempotent_failed:
        problems.append(f"{len(idempotent_failed)} GET/PUT/DELETE requests failed")
    if post_failed_late:
        problems.append(f"{len(post_failed_late)} POSTs failed that were not in flight at the kill")
    if on_dead:
        problems.append(f"{len(on_dead)} requests answered by {victim} while it was dead")
    problems += member_problems(load, writes)
    if ev.get("up_rc") != 0:
        problems.append(f"deploy/cluster.py up exited {ev.get('up_rc')}")
    if victim_share < args.min_share:
        problems.append(
            f"after `up` {victim} served {victim_share:.0%} of the requests "
            f"(< {args.min_share:.0%})"
        )

    post_detail = "; ".join(
        f"{s.endpoint} {s.error or s.status} sent {s.started - kill_at:+.3f} s, answered "
        f"{s.ended - kill_at:+.3f} s"
        for s in posts_failed[:8]
    )
    summary = "\n".join(
        [
            f"app_kill: {load.seconds:.1f} s, {totals['requests']:,} requests through nginx by "
            f"{len(load.members)} members; gunicorn {port} (master {ev['pid']}, workers "
            f"{ev['workers']}) killed at {kill_at:.2f} s; `deploy/cluster.py up` from "
            f"{ev['up_at']:.2f} s to {ev['up_done']:.2f} s (exit {ev['up_rc']})",
            "",
            endpoint_table(samples, load.seconds, ENDPOINTS),
            "",
            "by method (failed: no answer, or a 5xx such as nginx's 502):",
            *method_lines(methods),
            f"requests in flight at the kill (sent before, answered after): {len(across)}, "
            f"{sum(_method(s) == 'POST' for s in across)} of them POSTs",
            f"failed POSTs: {len(posts_failed)}: {len(in_flight)} in flight at the kill, "
            f"{len(just_after)} sent within {args.grace} s after it, {len(post_failed_late)} "
            f"later" + (f" ({post_detail}, relative to the kill)" if post_detail else ""),
            f"their logical writes (by Idempotency-Key): {len(kill_writes)}, "
            f"{sum(w.tries > 1 for w in kill_writes)} retried, "
            f"{sum(w.acked for w in kill_writes)} acknowledged in the end "
            f"({sum(w.acked and w.replayed for w in kill_writes)} by a replay: the first try had "
            f"had its effect), {sum(not w.acked for w in kill_writes)} not "
            f"({', '.join(_answer(w.status) for w in kill_writes if not w.acked) or 'none'})",
            "nginx's error log from the kill on: "
            + ("; ".join(f"{k} x{v}" for k, v in nginx_errors.items()) or "nothing"),
            f'4xx: {expected_4xx(load)} expected (a deleted post read back, a 409 "still '
            f'running" to a retried POST, a DELETE retried after its first attempt deleted: '
            f"{load.deletes_found_gone}), {unexpected_4xx(load)} unexpected",
            "",
            "by second (how the requests that ended in it ended):",
            timeline(samples, load.seconds, kill_at - 2, kill_at + 3, marks),
            timeline(samples, load.seconds, ev["up_done"] - 1, ev["up_done"] + 2, marks).split(
                "\n", 1
            )[1],
            "",
            "nginx's access log (the instance that answered last):",
            f"  before the kill: {before}",
            f"  the first second after the kill: {upstream_line(around)}; those {victim} "
            f"answered: {_statuses(dead_around)} (finished as it died)",
            f"  from then until `up` starts: {upstream_line(down_rows)}",
            f"  passed on to the other instance after a failure (idempotent): {len(retried)} "
            f"({_statuses(retried)})",
            f"  after up: {upstream_line(after_rows)}; {victim} {victim_share:.0%}",
            checks_line(load.checks),
            writes_line(writes),
        ]
    )
    return summary, problems


def metrics_dirs(pids: list[int]) -> set[Path]:
    """The private metrics directories (gunicorn.conf.py's) these processes have files open in."""
    found = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                target = Path(os.readlink(fd))
            except OSError:
                continue
            if target.parent.name.startswith("socialapi-metrics-"):
                found.add(target.parent)
    return found


def _method(sample) -> str:
    return METHOD[sample.endpoint]


def _answer(status: int | None) -> str:
    return "no answer" if status is None else str(status)


def _statuses(rows: list[dict]) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        key = f"{row['method']} {row['status']}"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{k} x{v}" for k, v in sorted(counts.items())) or "none"


def upstream_line(rows: list[dict]) -> str:
    shares = observe.upstream_shares(rows)
    return f"{len(rows):,} requests, " + ", ".join(f"{k} {v:,}" for k, v in shares.items())
