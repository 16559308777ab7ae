#!/usr/bin/env python3
"""Soak: mixed traffic for 60 s at 64 connections; zero socket errors, zero 5xx, nothing lost.

    .venv/bin/python reliability/soak.py [--duration 60] [--connections 64]

The mix: GET /posts/?limit=10, GET /posts/{id}, GET /users/{id}, POST /vote/ toggling and
POST /posts/, as the demo account, against gunicorn.conf.py on 127.0.0.1 (see server.py).
Each POST carries its own Idempotency-Key (keyed.py); the writes are counted by key.
Exit 0 when every request got a 2xx, 1 when any did not or a write is missing or doubled, 2 on a
setup error.
"""

import asyncio
import sys
from pathlib import Path

# Started as a script, Python puts reliability/ on the path, not the project root it is in.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.servers import server_log_summary  # noqa: E402
from reliability import run  # noqa: E402
from reliability.common import log  # noqa: E402
from reliability.report import (  # noqa: E402
    client_errors,
    endpoint_table,
    failure_problems,
    per_second,
    tally,
    unexpected_4xx_problems,
    window_rates,
)
from reliability.server import server_log_line  # noqa: E402
from reliability.writes import (  # noqa: E402
    verify_writes,
    writes_problems,
    writes_report,
)


def soak(ctx: run.Context) -> tuple[str, list[str]]:
    args = ctx.args
    load = ctx.load()
    log(f"soak: {args.duration} s of mixed traffic at {args.connections} connections")
    asyncio.run(load.run(args.duration))
    totals = tally(load.samples)
    writes = verify_writes(load)
    server_log = server_log_summary(ctx.server.log_path, 0)

    # 2xx per second by second and in 10 s windows: a soak that degrades shows it here.
    buckets = per_second(load.samples, load.seconds)[: int(args.duration)]
    per_second_ok = sorted(b["ok"] for b in buckets)

    problems = []
    if not totals["requests"]:
        problems.append("no request was sent")
    problems += failure_problems(totals)
    problems += unexpected_4xx_problems(client_errors(totals))
    problems += writes_problems(writes)
    if server_log["error_lines"] or server_log["worker_timeouts"]:
        problems.append(
            f"the server logged {server_log['error_lines']} errors and "
            f"{server_log['worker_timeouts']} worker timeouts"
        )

    summary = "\n".join(
        [
            f"soak: {load.seconds:.1f} s, {totals['requests']:,} requests, "
            f"{totals['requests'] / load.seconds:.1f} req/s",
            "",
            endpoint_table(load.samples, load.seconds),
            "",
            f"statuses {totals['statuses']}; socket errors {totals['socket_errors']}"
            f"{' ' + str(totals['errors']) if totals['errors'] else ''}; "
            f"5xx {totals['server_errors']}; "
            f"timeouts (> {args.timeout} s) {totals['errors'].get('timeout', 0)}",
            "2xx/s by 10 s window: " + window_rates(load.samples, load.seconds),
            f"2xx/s by second: min {per_second_ok[0]}, median "
            f"{per_second_ok[len(per_second_ok) // 2]}, max {per_second_ok[-1]}",
            writes_report(writes),
            server_log_line(ctx.server.log_path),
        ]
    )
    return summary, problems


def main(argv=None) -> int:
    parser = run.parser(__doc__.splitlines()[0], duration=60)
    return run.main("soak", run.parse(parser, argv), soak)


if __name__ == "__main__":
    sys.exit(main())
