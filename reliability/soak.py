#!/usr/bin/env python3
"""Soak: mixed traffic for 60 s at 64 connections; zero socket errors, zero 5xx, nothing lost.

    .venv/bin/python reliability/soak.py [--duration 60] [--connections 64]

The mix: GET /posts/?limit=10, GET /posts/{id}, GET /users/{id}, POST /vote/ toggling and
POST /posts/, as the demo account, against gunicorn.conf.py on 127.0.0.1 (see harness.py).
Exit 0 when every request got a 2xx, 1 when any did not or a write is missing, 2 on a setup error.
"""

import asyncio
import sys

import harness


def soak(ctx: harness.Context) -> tuple[str, list[str]]:
    args = ctx.args
    load = ctx.load()
    harness.log(f"soak: {args.duration} s of mixed traffic at {args.connections} connections")
    asyncio.run(load.run(args.duration))
    totals = harness.tally(load.samples)
    writes = harness.verify_writes(load)
    server_log = harness.servers.server_log_summary(ctx.server.log_path, 0)

    # 2xx per second by second and in 10 s windows: a soak that degrades shows it here.
    buckets = harness.per_second(load.samples, load.seconds)[: int(args.duration)]
    per_second_ok = sorted(b["ok"] for b in buckets)

    problems = []
    if not totals["requests"]:
        problems.append("no request was sent")
    if totals["socket_errors"]:
        problems.append(f"{totals['socket_errors']} socket errors {totals['errors']}")
    if totals["server_errors"]:
        problems.append(f"{totals['server_errors']} 5xx responses")
    client_errors = totals["non_2xx"] - totals["server_errors"]
    if client_errors:
        problems.append(f"{client_errors} 4xx responses (expected none)")
    if writes["lost_writes"] or writes["posts_duplicate_ids"]:
        problems.append(f"{writes['lost_writes']} lost writes")
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
            harness.endpoint_table(load.samples, load.seconds),
            "",
            f"statuses {totals['statuses']}; socket errors {totals['socket_errors']}"
            f"{' ' + str(totals['errors']) if totals['errors'] else ''}; "
            f"5xx {totals['server_errors']}; "
            f"timeouts (> {args.timeout} s) {totals['errors'].get('timeout', 0)}",
            "2xx/s by 10 s window: " + harness.window_rates(load.samples, load.seconds),
            f"2xx/s by second: min {per_second_ok[0]}, median "
            f"{per_second_ok[len(per_second_ok) // 2]}, max {per_second_ok[-1]}",
            harness.writes_report(writes),
            harness.server_log_line(ctx.server.log_path),
        ]
    )
    return summary, problems


def main(argv=None) -> int:
    parser = harness.parser(__doc__.splitlines()[0], duration=60)
    return harness.main("soak", harness.parse(parser, argv), soak)


if __name__ == "__main__":
    sys.exit(main())
