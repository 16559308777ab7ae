#!/usr/bin/env python3
"""Benchmark socialapi as deployed: PostgreSQL seeded by seed_demo, gunicorn.conf.py, driven by wrk.

One command (see the README's Performance section):

    .venv/bin/python bench/run.py                  # 100k posts, 10 s per scenario, 64 connections
    .venv/bin/python bench/run.py --sizes 10k,100k,1m

Every scenario is reported as req/s, p50, p99, non-2xx responses, socket errors and its ratio to
the ceiling: a bare Django view returning constant JSON through the same gunicorn config and
middleware, measured in the same run (these machines are shared and noisy; ratios hold where
absolute numbers drift). The `mixed` and `many_readers` scenarios are many members at once, each
with its own token, drawing every request at random from a mix (bench/scenarios.py). Results: a
table on stdout, bench/results/<stamp>-<size>.json and a PNG chart beside it. Everything listens
and connects on 127.0.0.1 only. The modules beside this script do the work; this is the CLI.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

# Started as a script, Python puts bench/ on the path, not the project root that `bench` is in.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.chart import draw_chart, ensure_matplotlib  # noqa: E402
from bench.common import RESULTS, ROOT, HarnessError, ensure_tools, ensure_venv, log  # noqa: E402
from bench.report import print_report  # noqa: E402
from bench.scenarios import MEMBERS, WRITE_SHARE, scenarios  # noqa: E402
from bench.seeding import SIZES, ensure_postgres  # noqa: E402
from bench.suite import run_size  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--size", choices=SIZES, default="100k", help="database size")
    parser.add_argument(
        "--sizes",
        type=lambda text: _choices_list(text, SIZES),
        help="several sizes in sequence, e.g. 10k,100k,1m (overrides --size)",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument(
        "--connections",
        type=_int_list,
        default=[64],
        help="connection levels for every scenario, e.g. 64 or 16,64",
    )
    parser.add_argument(
        "--stall-connections",
        type=int,
        default=256,
        help="connections of the stall check on GET /posts/?limit=10 (0: skip it)",
    )
    parser.add_argument(
        "--skip-duration",
        type=int,
        default=5,
        help="seconds per unloaded (1 connection) run: deep skip and login",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--timeout", type=int, default=10, help="wrk's per-request timeout, s")
    parser.add_argument(
        "--only",
        type=lambda text: text.split(","),
        help="run only these scenario keys (comma list; the ceiling always runs), e.g. "
        "mixed,many_readers or posts_limit10,post_detail",
    )
    parser.add_argument(
        "--members",
        type=int,
        default=MEMBERS,
        help="demo users the mixed and many_readers scenarios log in as, each with its own token",
    )
    parser.add_argument(
        "--write-share",
        type=float,
        default=WRITE_SHARE,
        help="share of the mixed scenario's requests that are writes (votes, new posts)",
    )
    parser.add_argument(
        "--skip-seed",
        action="store_true",
        help="use the database as it is: no seed_demo even if it has fewer rows than the size",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="drop and re-create the size's database first"
    )
    parser.add_argument(
        "--redis-db",
        type=int,
        metavar="N",
        help="give the server REDIS_URL=redis://127.0.0.1:6379/N; none when not given",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra server environment, repeatable (e.g. WEB_CONCURRENCY=3)",
    )
    parser.add_argument(
        "--port", type=int, help="server port on 127.0.0.1; a free one when not given"
    )
    parser.add_argument(
        "--keep-log", action="store_true", help="keep the server log even when it shows no errors"
    )
    parser.add_argument("--no-chart", action="store_true", help="no PNG (and no matplotlib)")
    parser.add_argument(
        "--report",
        type=Path,
        metavar="RESULT.json",
        help="run nothing: print the table of a saved result and redraw its chart",
    )
    args = parser.parse_args(argv)
    args.sizes = args.sizes or [args.size]
    for key in args.only or []:
        known = {s.key for s in scenarios("x")}
        if key not in known:
            parser.error(f"--only: unknown scenario {key!r}; known: {', '.join(sorted(known))}")
    for item in args.env:
        if "=" not in item:
            parser.error(f"--env wants KEY=VALUE, not {item!r}")
    if args.members < 1 or not 0 <= args.write_share <= 1:
        parser.error("--members must be at least 1 and --write-share between 0 and 1")
    if args.duration < 1 or args.skip_duration < 1 or args.threads < 1 or args.timeout < 1:
        parser.error("--duration, --skip-duration, --threads and --timeout must be at least 1")
    return args


def _int_list(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("a comma list of positive integers")
    return values


def _choices_list(text: str, choices) -> list[str]:
    values = [part.strip() for part in text.split(",") if part.strip()]
    bad = [v for v in values if v not in choices]
    if bad or not values:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)}")
    return values


def _terminate(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through every finally: gunicorn is stopped


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        ensure_venv()
    except HarnessError as error:
        log(f"error: {error}")
        return 2
    if args.report:
        result = json.loads(args.report.read_text())
        print_report(result)
        if not args.no_chart and ensure_matplotlib():
            png = args.report.with_suffix(".png")
            draw_chart(result, png)
            log(f"chart: {png}")
        return 0
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    try:
        ensure_tools()
        ensure_postgres()
        charts = not args.no_chart and ensure_matplotlib()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        for size_name in args.sizes:
            result = run_size(size_name, args, stamp)
            path = RESULTS / f"{stamp}-{size_name}.json"
            path.write_text(json.dumps(result, indent=2) + "\n")
            print_report(result)
            log(f"results: {path.relative_to(ROOT)}")
            if charts:
                png = path.with_suffix(".png")
                draw_chart(result, png)
                log(f"chart: {png.relative_to(ROOT)}")
    except HarnessError as error:
        log(f"error: {error}")
        return 2
    except KeyboardInterrupt:
        log("interrupted: the server is stopped and the database cleaned up")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
