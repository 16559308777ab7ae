#!/usr/bin/env python3
"""Database fault: restart PostgreSQL under load: 503 JSON while down, back in 5 s, nothing lost.

    .venv/bin/python reliability/db_fault.py [--stop-mode fast|immediate] [--down 3]

The soak's load runs against the private cluster (port 5433, never the main one). At --fault-at
seconds the cluster is stopped, kept down --down seconds and started again; the server is not
touched. Then:
- while PostgreSQL is down every request answers 503 with a JSON `detail` and Retry-After: no
  500, no socket error, no hang (a request past --timeout);
- the API recovers by itself: the last failed request ends at most --max-recovery seconds after
  PostgreSQL accepts connections again (measured by this client);
- every write acknowledged with a 2xx, before, during or after, is in the database: each post
  created (by id) and the last acknowledged vote or unvote of every post toggled;
- each POST is one logical write under its own Idempotency-Key: the clients retry it under that
  key through the outage (keyed.py), and after the restart no write has two effects (duplicates
  0) and none acknowledged is missing (lost 0).
Exit 0 when all hold, 1 when one does not, 2 on a setup error.
"""

import asyncio
import sys
import time
from pathlib import Path

# Started as a script, Python puts reliability/ on the path, not the project root it is in.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import HarnessError  # noqa: E402
from reliability import run  # noqa: E402
from reliability.common import DSN, log  # noqa: E402
from reliability.load import Load  # noqa: E402
from reliability.report import (  # noqa: E402
    endpoint_table,
    failure_problems,
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


def db_fault(ctx: run.Context) -> tuple[str, list[str]]:
    args = ctx.args
    if args.fault_at + args.down + args.max_recovery + 5 > args.duration:
        raise HarnessError("--duration leaves too little load after the fault")
    load = ctx.load()
    marks: dict[float, str] = {}
    times: dict[str, float] = {}
    workers_before = worker_pids(ctx.server.process.pid)

    async def restart_postgres(load: Load) -> None:
        await asyncio.sleep(args.fault_at)
        times["stop"] = load.now()
        log(f"stopping PostgreSQL ({args.stop_mode}) at {times['stop']:.1f} s")
        await asyncio.to_thread(ctx.cluster.stop, args.stop_mode)
        times["down"] = load.now()
        marks[times["stop"]] = f"PostgreSQL stop ({args.stop_mode}) {times['stop']:.2f} s"
        marks[times["down"]] = f"down at {times['down']:.2f} s"
        await asyncio.sleep(args.down)
        times["start"] = load.now()
        log(f"starting PostgreSQL at {times['start']:.1f} s")
        starting = asyncio.create_task(asyncio.to_thread(ctx.cluster.start))
        times["back"] = await accepting_connections(load, deadline=60)
        await starting
        marks[times["start"]] = f"PostgreSQL start {times['start']:.2f} s"
        marks[times["back"]] = f"accepting connections at {times['back']:.2f} s"
        log(f"PostgreSQL accepts connections at {times['back']:.1f} s")

    log(
        f"db fault: {args.duration} s of load at {args.connections} connections; PostgreSQL "
        f"stopped at {args.fault_at} s for {args.down} s"
    )
    asyncio.run(load.run(args.duration, during=restart_postgres))
    workers_after = worker_pids(ctx.server.process.pid)
    writes = verify_writes(load)
    samples = load.samples
    totals = tally(samples)

    # Wholly inside the outage: started once the stop had finished, ended before the start began.
    outage = [s for s in samples if s.started >= times["down"] and s.ended <= times["start"]]
    outage_totals = tally(outage)
    outage_503 = [s for s in outage if s.status == 503]
    outage_bad = [
        s for s in outage if not (s.status == 503 and s.json_detail and s.retry_after) and not s.ok
    ]
    outage_max_ms = max(((s.ended - s.started) * 1000 for s in outage), default=0)
    failed = [s for s in samples if s.failed]
    last_failure = max((s.ended for s in failed), default=None)
    first_ok_after = min(
        (s.ended for s in samples if s.ok and s.started >= times["back"]), default=None
    )
    # Negative when the server reconnected before this client's 50 ms poll saw PostgreSQL back.
    last_failure_after = last_failure - times["back"] if last_failure is not None else None
    recovery = max(0.0, last_failure_after or 0.0)
    last_failure_after_start = (last_failure or times["start"]) - times["start"]
    after = [s for s in samples if last_failure is not None and s.started > last_failure]
    all_503 = [s for s in samples if s.status == 503]
    five_hundreds = sum(n for code, n in totals["statuses"].items() if code >= 500 and code != 503)

    # A vote whose request got a 503 left the client unsure whether it happened; its next
    # toggle may meet "already voted" (409) or "Vote does not exist" (404): the answer that
    # settles it. Any other 4xx is a fault.
    resolving = sum(
        s.endpoint == "vote" and s.status in (404, 409) and not s.running for s in samples
    )
    client_errors = sum(n for code, n in totals["statuses"].items() if 400 <= code < 500)

    problems = unexpected_4xx_problems(client_errors - resolving - totals["running"])
    if not outage:
        problems.append("no request fell wholly inside the outage: nothing was observed")
    if outage_bad:
        problems.append(f"{len(outage_bad)} requests during the outage were not 503 JSON")
    if five_hundreds:
        problems.append(f"{five_hundreds} 5xx other than 503")
    if any(s.status == 503 and not (s.json_detail and s.retry_after) for s in samples):
        problems.append("a 503 without a JSON detail or Retry-After")
    problems += failure_problems(totals, server_errors=False)  # 503s allowed: above
    if recovery > args.max_recovery:
        problems.append(
            f"recovered {recovery:.2f} s after PostgreSQL was back (> {args.max_recovery})"
        )
    problems += writes_problems(writes)
    # A dead master: run.py's own "gunicorn exited" problem, for every check.

    summary = "\n".join(
        [
            f"db fault: {load.seconds:.1f} s, {totals['requests']:,} requests; PostgreSQL stop "
            f"({args.stop_mode}) at {times['stop']:.2f} s, down at {times['down']:.2f} s, start at "
            f"{times['start']:.2f} s, accepting connections at {times['back']:.2f} s "
            f"(down {times['back'] - times['down']:.2f} s)",
            "",
            endpoint_table(samples, load.seconds),
            "",
            "by second (how the requests that ended in it ended):",
            timeline(samples, load.seconds, times["stop"] - 3, times["back"] + 6, marks),
            "",
            f"while down ({times['down']:.2f}-{times['start']:.2f} s): {len(outage)} requests, "
            f"{len(outage_503)} x 503 JSON with Retry-After, {len(outage_bad)} otherwise "
            f"(statuses {outage_totals['statuses']}, socket errors "
            f"{outage_totals['socket_errors']}), slowest {outage_max_ms:.0f} ms",
            "2xx/s by 10 s window: " + window_rates(samples, load.seconds),
            f"503s in the whole run: {len(all_503)}; other 5xx: {five_hundreds}; socket errors: "
            f"{totals['socket_errors']}{' ' + str(totals['errors']) if totals['errors'] else ''}; "
            f"4xx: {client_errors}, of which {resolving} are 409/404 answers to a toggle whose "
            "previous request got a 503 (the client could not know the state; the answer says it) "
            f'and {totals["running"]} are 409 "still running" answers to a retry (retried again)',
            f"recovery: {recovery:.2f} s (limit {args.max_recovery} s): the last failed request "
            f"ended {_signed(last_failure_after)} PostgreSQL accepted connections "
            f"({last_failure_after_start:.2f} s after `pg_ctlcluster start` began, its own startup "
            "included); first 2xx "
            f"{_since(first_ok_after, times['back'])}; afterwards {len(after):,} requests, "
            f"{sum(s.ok for s in after):,} 2xx",
            f"app not restarted: master pid {ctx.server.process.pid} alive, workers "
            f"{'unchanged' if workers_before == workers_after else 'changed'} "
            f"({len(workers_before & workers_after)} of {len(workers_before)} kept)",
            writes_report(writes),
            server_log_line(ctx.server.log_path),
        ]
    )
    return summary, problems


async def accepting_connections(load: Load, deadline: float) -> float:
    """The moment (load clock) PostgreSQL first answers a query, polled every 50 ms."""
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        if await asyncio.to_thread(_answers):
            return load.now()
        await asyncio.sleep(0.05)
    raise HarnessError(f"PostgreSQL did not come back within {deadline} s")


def _answers() -> bool:
    import psycopg

    try:
        with psycopg.connect(DSN, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _signed(delta) -> str:
    if delta is None:
        return "- (none failed) before"
    return f"{delta:.2f} s after" if delta >= 0 else f"{-delta:.2f} s before"


def _since(moment, reference) -> str:
    return "-" if moment is None else f"{moment - reference:.2f} s after it was back"


def main(argv=None) -> int:
    parser = run.parser(__doc__.splitlines()[0], duration=60)
    parser.add_argument("--fault-at", type=float, default=20, help="seconds into the load")
    parser.add_argument("--down", type=float, default=3, help="seconds PostgreSQL stays down")
    parser.add_argument(
        "--stop-mode",
        choices=("fast", "immediate"),
        default="fast",
        help="pg_ctl's stop mode: fast (a clean restart) or immediate (as a crash: WAL replay)",
    )
    parser.add_argument(
        "--max-recovery", type=float, default=5, help="seconds allowed to recover, s"
    )
    return run.main("db_fault", run.parse(parser, argv), db_fault)


if __name__ == "__main__":
    sys.exit(main())
