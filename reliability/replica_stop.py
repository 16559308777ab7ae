"""Check `replica_stop`: stop the replica under load; reads move to the primary, then come back.

The members' load (members.py) runs through nginx while each instance's /metrics is scraped
straight from its port every 0.2 s (django_db_execute_total by alias). At --stop-at s the
replica stops (`pg_ctlcluster stop -m fast`, deploy/postgres.py); --down-for s later it starts
again. Requirements:
- the replica's query count stops growing within 2 s of the stop (the last scrape that saw it
  grow came back by then), and the primary's queries per request rise: it took the reads over;
- no 5xx and no socket error during the whole run, and every member reads back its writes;
- after the restart the replica serves reads again (half a second at a quarter of its rate
  before the stop) before the load ends; reported: how long after it accepted connections.
"""

from __future__ import annotations

import asyncio

from reliability import cluster_load, observe
from reliability.cluster_load import Context, cluster
from reliability.common import log
from reliability.member_report import (
    answers_line,
    checks_line,
    member_problems,
    verify_member_writes,
    writes_line,
)
from reliability.members import ENDPOINTS
from reliability.report import endpoint_table, failure_problems, tally

MAX_SWITCH_SECONDS = 2.0
PRIMARY, REPLICA = "default", "replica_1"


def replica_stop(ctx: Context) -> tuple[str, list[str]]:
    args = ctx.args
    replica = cluster.make_replica()
    load = ctx.member_load()
    ev: dict = {}

    async def stop_and_start(load) -> None:
        await asyncio.sleep(args.stop_at)
        ev["stop"] = load.now()
        log(f"stopping the replica (-m fast) at {ev['stop']:.2f} s")
        await asyncio.to_thread(replica.stop, "fast")
        ev["stopped"] = load.now()
        await asyncio.sleep(args.down_for)
        ev["start"] = load.now()
        log(f"starting the replica at {ev['start']:.2f} s")
        await asyncio.to_thread(replica.start)  # returns once it accepts connections
        ev["accepting"] = load.now()
        log(f"the replica accepts connections at {ev['accepting']:.2f} s")

    log(
        f"replica_stop: {args.duration} s of member load through nginx at {args.connections} "
        f"connections; replica stopped at {args.stop_at} s for {args.down_for} s"
    )
    failed_before = observe.errors_total().get(REPLICA, 0.0)
    with observe.Scraper() as scraper:
        asyncio.run(load.run(args.duration, during=stop_and_start))
    failed_statements = observe.errors_total().get(REPLICA, 0.0) - failed_before
    scraper.t0 = load.t0
    totals = tally(load.samples)
    writes = verify_member_writes(load, cluster_load.connect)
    stop, start, accepting = ev["stop"], ev["start"], ev["accepting"]

    def requests(a: float, b: float) -> int:
        return sum(a <= s.ended < b for s in load.samples)

    before = scraper.between(stop - 5, stop)
    down = scraper.between(stop + MAX_SWITCH_SECONDS, start)
    req_before, req_down = requests(stop - 5, stop), requests(stop + MAX_SWITCH_SECONDS, start)
    last_growth = max(scraper.growths(REPLICA, stop, start), default=None)
    switch_s = last_growth - stop if last_growth is not None else 0.0
    per_request_before = before.get(PRIMARY, 0) / req_before if req_before else 0.0
    per_request_down = down.get(PRIMARY, 0) / req_down if req_down else 0.0
    replica_rate = before.get(REPLICA, 0) / 5
    first_back = min(scraper.growths(REPLICA, accepting, load.seconds), default=None)
    # Reads are back once half a second holds a quarter of the replica's rate before the stop.
    resumed = next(
        (
            at + 0.5
            for at in (accepting + step / 10 for step in range(int(10 * load.seconds)))
            if at + 0.5 <= load.seconds
            and scraper.between(at, at + 0.5).get(REPLICA, 0) >= 0.25 * replica_rate * 0.5
        ),
        None,
    )
    after_start = (resumed or load.seconds) + 1
    after = scraper.between(after_start, load.seconds)
    req_after = requests(after_start, load.seconds)

    problems = []
    if switch_s > MAX_SWITCH_SECONDS:
        problems.append(f"replica queries grew until {switch_s:.2f} s after the stop (> 2 s)")
    if per_request_down <= per_request_before:
        problems.append("the primary did not take the reads over (no more queries per request)")
    problems += failure_problems(totals)
    if resumed is None:
        problems.append("reads did not come back to the replica before the load ended")
    problems += member_problems(load, writes)

    def since(t, ref):
        return f"{t - ref:+.2f} s" if t is not None else "never"

    def window(label: str, counts: dict, seconds: float, handled: int) -> str:
        primary, replica = counts.get(PRIMARY, 0), counts.get(REPLICA, 0)
        return (
            f"  {label:<24} {primary / seconds:7.0f} | {replica / seconds:7.0f}   "
            f"{handled / seconds:5.1f} req/s, {primary / handled if handled else 0:.2f} | "
            f"{replica / handled if handled else 0:.2f} per request"
        )

    summary = "\n".join(
        [
            f"replica_stop: {load.seconds:.1f} s, {totals['requests']:,} requests through nginx "
            f"by {len(load.members)} members; replica stop issued at {stop:.2f} s (stopped "
            f"{ev['stopped']:.2f} s), start issued {start:.2f} s, accepting {accepting:.2f} s; "
            f"{scraper.count_scrapes} scrapes of 8001 and 8002 ({scraper.misses} unanswered)",
            "",
            endpoint_table(load.samples, load.seconds, ENDPOINTS),
            "",
            answers_line(load, totals),
            "queries/s from /metrics (primary | replica), and per request:",
            window("5 s before the stop", before, 5, req_before),
            window("down (from stop + 2 s)", down, start - stop - MAX_SWITCH_SECONDS, req_down),
            window("after reads came back", after, load.seconds - after_start, req_after),
            f"switch-over: the last scrape that saw replica queries grow came back "
            f"{since(last_growth, stop)} after the stop was issued (none later until the "
            f"restart); the primary's queries per request {per_request_before:.2f} -> "
            f"{per_request_down:.2f}",
            f"statements that failed on the replica (one per worker thread, down the connection "
            f"it kept open; a status check fails quietly, a read runs again on the primary; "
            f"not counted above): {failed_statements:.0f}",
            f"back: first replica query seen {since(first_back, accepting)} after the replica "
            f"accepted connections; reads back (half a second with >= 25% of the replica's "
            f"rate before the stop) by {since(resumed, accepting)}",
            "",
            "by second (queries on the primary | replica, from the scrapes; 2xx / failed):",
            *per_second(scraper, load, stop - 2, stop + 4, ev),
            "  ...",
            *per_second(scraper, load, accepting - 1, (resumed or accepting) + 2, ev),
            "",
            checks_line(load.checks),
            writes_line(writes),
        ]
    )
    return summary, problems


def per_second(scraper, load, start: float, end: float, ev: dict) -> list[str]:
    lines = []
    names = {"stop": "stop issued", "stopped": "stopped", "start": "start", "accepting": "accepts"}
    for second in range(max(0, int(start)), min(int(load.seconds), int(end)) + 1):
        counts = scraper.between(second, second + 1)
        done = [s for s in load.samples if second <= s.ended < second + 1]
        events = ", ".join(names[k] for k, t in ev.items() if k in names and int(t) == second)
        lines.append(
            f"  {second:>3}-{second + 1:<3} s {counts.get(PRIMARY, 0):>6.0f} | "
            f"{counts.get(REPLICA, 0):>6.0f}   {sum(s.ok for s in done):>5} / "
            f"{sum(s.failed for s in done)}" + (f"   {events}" if events else "")
        )
    return lines
