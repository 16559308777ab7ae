#!/usr/bin/env python3
"""Worker fault: kill -9 a gunicorn worker under load; only its requests in flight fail.

    .venv/bin/python reliability/worker_fault.py [--kill-at 15] [--duration 40]

The soak's load runs; at --kill-at seconds one busy worker is frozen (SIGSTOP), the client
connections it holds are counted from /proc, and it is killed with SIGKILL. Then:
- the master replaces it (the worker count is back, with a new pid) within --max-replace s;
- the requests that failed (socket errors and 5xx, over the whole run) number at most the
  connections the killed worker held: a sync worker holds one, a gthread worker one per thread;
- throughput recovers: 2xx/s over the 10 s after the replacement is at least --min-throughput
  of the 10 s before the kill (a share: the machine is shared, so the bar is modest);
- every acknowledged write is in the database, once: a POST that died with the worker is
  retried under its Idempotency-Key (keyed.py), so duplicates are 0 as well as lost writes.
Exit 0 when all hold, 1 when one does not, 2 on a setup error.
"""

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

# Started as a script, Python puts reliability/ on the path, not the project root it is in.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import HarnessError  # noqa: E402
from reliability import run  # noqa: E402
from reliability.common import log  # noqa: E402
from reliability.load import Load  # noqa: E402
from reliability.report import (  # noqa: E402
    client_errors,
    endpoint_table,
    per_second,
    tally,
    timeline,
    unexpected_4xx_problems,
    window_rates,
)
from reliability.server import server_log_line, worker_pids  # noqa: E402
from reliability.writes import (  # noqa: E402
    verify_writes,
    writes_problems,
    writes_report,
)

ESTABLISHED, CLOSE_WAIT = "01", "08"


def worker_fault(ctx: run.Context) -> tuple[str, list[str]]:
    args = ctx.args
    if args.kill_at < 12 or args.kill_at + 15 > args.duration:
        raise HarnessError("--kill-at wants 12 s of load before and 15 s after it")
    load = ctx.load()
    master = ctx.server.process.pid
    marks: dict[float, str] = {}
    kill: dict = {}

    async def kill_a_worker(load: Load) -> None:
        await asyncio.sleep(args.kill_at)
        before = worker_pids(master)
        victim, held = await asyncio.to_thread(freeze_a_busy_worker, before, ctx.server.port)
        os.kill(victim, signal.SIGKILL)
        kill.update(pid=victim, held=held, at=load.now(), workers_before=before)
        marks[kill["at"]] = f"kill -9 worker {victim} (it held {held} connections)"
        log(f"killed worker {victim} at {kill['at']:.1f} s; it held {held} connections")
        deadline = time.monotonic() + args.max_replace + 20
        while time.monotonic() < deadline:
            now = worker_pids(master)
            if victim not in now and len(now) >= len(before) and now - before:
                kill.update(replaced_at=load.now(), replacement=sorted(now - before))
                marks[kill["replaced_at"]] = f"replaced by {kill['replacement']}"
                log(f"replacement {kill['replacement']} at {kill['replaced_at']:.2f} s")
                return
            await asyncio.sleep(0.02)
        kill["replaced_at"] = None

    log(
        f"worker fault: {args.duration} s of load at {args.connections} connections; "
        f"kill -9 a worker at {args.kill_at} s"
    )
    asyncio.run(load.run(args.duration, during=kill_a_worker))
    samples = load.samples
    totals = tally(samples)
    writes = verify_writes(load)
    failed = [s for s in samples if s.failed]
    replaced_at = kill.get("replaced_at")
    replace_s = replaced_at - kill["at"] if replaced_at is not None else None
    buckets = per_second(samples, load.seconds)
    kill_second = int(kill["at"])
    before = buckets[kill_second - 10 : kill_second]
    resumed = int(replaced_at) + 1 if replaced_at is not None else kill_second + 1
    after = buckets[resumed : resumed + 10]
    rate_before = sum(b["ok"] for b in before) / len(before)
    rate_after = sum(b["ok"] for b in after) / len(after) if after else 0.0
    share = rate_after / rate_before if rate_before else 0.0
    # Requests that began before the kill and failed at or after it: the victim's.
    around = [s for s in failed if s.started <= kill["at"] <= s.ended + 0.001]

    problems = []
    if replaced_at is None or replace_s > args.max_replace:
        problems.append(f"the master did not replace the worker within {args.max_replace} s")
    if len(failed) > kill["held"]:
        problems.append(
            f"{len(failed)} failed requests, more than the {kill['held']} connections the "
            "killed worker held"
        )
    if share < args.min_throughput:
        problems.append(
            f"throughput after the kill {share:.0%} of before (< {args.min_throughput:.0%})"
        )
    problems += unexpected_4xx_problems(client_errors(totals))
    problems += writes_problems(writes)
    # A dead master: run.py's own "gunicorn exited" problem, for every check.

    failures = ", ".join(
        f"{s.endpoint} {s.error or s.status} (began {s.started:.2f} s, ended {s.ended:.2f} s)"
        for s in failed[:10]
    )
    summary = "\n".join(
        [
            f"worker fault: {load.seconds:.1f} s, {totals['requests']:,} requests; worker "
            f"{kill['pid']} killed (SIGKILL) at {kill['at']:.2f} s; client connections it held: "
            f"{kill['held']}; {len(kill['workers_before'])} workers before",
            "",
            endpoint_table(samples, load.seconds),
            "",
            "by second (how the requests that ended in it ended):",
            timeline(samples, load.seconds, kill["at"] - 3, (replaced_at or 0) + 5, marks),
            "",
            f"failed requests: {len(failed)} (bound: {kill['held']}, the connections the killed "
            f"worker held); in flight across the kill: {len(around)}; socket errors "
            f"{totals['socket_errors']}{' ' + str(totals['errors']) if totals['errors'] else ''}, "
            f"5xx {totals['server_errors']}" + (f": {failures}" if failures else ""),
            f"replacement: worker {kill.get('replacement')} "
            + (f"forked {replace_s:.2f} s after the kill" if replace_s is not None else "NONE"),
            f"throughput: {rate_before:.0f} 2xx/s over the 10 s before the kill, {rate_after:.0f} "
            f"over the 10 s from {resumed} s ({share:.0%}); by 10 s window: "
            + window_rates(samples, load.seconds),
            writes_report(writes),
            server_log_line(ctx.server.log_path),
        ]
    )
    return summary, problems


def freeze_a_busy_worker(workers: set[int], port: int, tries: int = 50) -> tuple[int, int]:
    """SIGSTOP a worker that holds a client connection; (its pid, the connections it holds).

    Frozen, it accepts nothing more, so the count cannot change before the SIGKILL. Workers
    found idle are let go (SIGCONT). After `tries` rounds the last one is taken idle.
    """
    candidates = sorted(workers)
    for attempt in range(tries):
        for pid in candidates:
            os.kill(pid, signal.SIGSTOP)
            held = client_connections(pid, port)
            if held or (attempt == tries - 1 and pid == candidates[-1]):
                return pid, held
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.01)
    raise AssertionError("unreachable")


def client_connections(pid: int, port: int) -> int:
    """TCP connections to the server's port open in process `pid` (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    held = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            next(rows)
            for row in rows:
                fields = row.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port and fields[3] in (ESTABLISHED, CLOSE_WAIT):
                    held += fields[9] in inodes
    return held


def main(argv=None) -> int:
    parser = run.parser(__doc__.splitlines()[0], duration=40)
    parser.add_argument("--kill-at", type=float, default=15, help="seconds into the load")
    parser.add_argument(
        "--max-replace", type=float, default=10, help="seconds the master may take to replace it"
    )
    parser.add_argument(
        "--min-throughput",
        type=float,
        default=0.5,
        help="2xx/s after the replacement as a share of before the kill",
    )
    return run.main("worker_fault", run.parse(parser, argv), worker_fault)


if __name__ == "__main__":
    sys.exit(main())
