#!/usr/bin/env python3
"""Scale-out checks: the cluster of deploy/cluster.py (nginx, 2 instances, a replica) under load.

    .venv/bin/python reliability/scale_out.py bench|app_kill|replica_stop|replay_pause|all

Each brings the cluster up on a database of its own (socialapi_scale on the main PostgreSQL,
bench's 10k size; cluster_load.py), runs, prints its figures and leaves the cluster down:
- bench: bench's `mixed` through nginx with reads on the replica against one gunicorn alone on
  the primary, same run, same data (scale_bench.py);
- app_kill: SIGKILL one instance under load: no idempotent request fails (app_kill.py);
- replica_stop: stop the replica under load: reads on the primary within 2 s, no 5xx, back
  after the restart (replica_stop.py);
- replay_pause: pause the replica's replay 10 s under load: every member reads its own writes,
  nothing stale is cached (replay_pause.py).
The fault checks drive members.py's load (200 members, each with its own token) through nginx.
Exit 0 when every requirement holds, 1 when one does not, 2 on a setup error.
"""

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

# Started as a script, Python puts reliability/ on the path, not the project root it is in.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import machine  # noqa: E402
from bench.common import HarnessError, ensure_venv  # noqa: E402
from deploy.postgres import MAIN_PORT, ClusterError  # noqa: E402
from reliability import cluster_load, run  # noqa: E402  (cluster_load: before deploy.cluster)
from reliability.app_kill import app_kill  # noqa: E402
from reliability.common import log  # noqa: E402
from reliability.replay_pause import replay_pause  # noqa: E402
from reliability.replica_stop import replica_stop  # noqa: E402
from reliability.scale_bench import bench  # noqa: E402

CHECKS = {
    "bench": bench,
    "app_kill": app_kill,
    "replica_stop": replica_stop,
    "replay_pause": replay_pause,
}
# Set-up (seed, replica, members) and tear-down beyond the checks' own time.
SETUP_BUDGET_SECONDS = 600


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("check", choices=[*CHECKS, "all"])
    p.add_argument(
        "--duration", type=int, default=40, help="seconds of load: replica_stop, replay_pause"
    )
    p.add_argument("--connections", type=int, default=32, help="members' load: clients at once")
    p.add_argument("--timeout", type=int, default=10, help="per-request timeout, s")
    p.add_argument("--seed", type=int, default=1, help="seed of the members' choices")
    p.add_argument("--bench-duration", type=int, default=15, help="seconds of each wrk run")
    p.add_argument("--bench-connections", type=int, default=64, help="wrk connections")
    p.add_argument("--warmup", type=int, default=3, help="unrecorded wrk seconds before each run")
    p.add_argument("--kill-at", type=float, default=10, help="app_kill: seconds into the load")
    p.add_argument("--restart-after", type=float, default=8, help="app_kill: `up` this much later")
    p.add_argument(
        "--after-up", type=float, default=10, help="app_kill: seconds of load after `up` returns"
    )
    p.add_argument(
        "--grace",
        type=float,
        default=0.1,
        help="app_kill: a POST sent this soon after the kill may still be passed to the dead one",
    )
    p.add_argument(
        "--min-share", type=float, default=0.25, help="app_kill: the restarted one's share after"
    )
    p.add_argument("--stop-at", type=float, default=10, help="replica_stop: seconds into the load")
    p.add_argument("--down-for", type=float, default=10, help="replica_stop: seconds stopped")
    p.add_argument("--pause-at", type=float, default=10, help="replay_pause: seconds into the load")
    p.add_argument("--pause-for", type=float, default=10, help="replay_pause: seconds paused")
    p.add_argument("--sample", type=int, default=40, help="replay_pause: members compared")
    p.add_argument(
        "--keep-cluster", action="store_true", help="leave the cluster up (make cluster-down)"
    )
    args = p.parse_args(argv)
    if args.duration < 30 or args.connections < 1 or args.timeout < 1:
        p.error("--duration at least 30, --connections and --timeout at least 1")
    if args.kill_at < 5 or args.restart_after < 2 or args.after_up < 5:
        p.error("app_kill wants --kill-at >= 5, --restart-after >= 2 and --after-up >= 5")
    latest = max(args.stop_at + args.down_for, args.pause_at + args.pause_for)
    if args.stop_at < 6 or args.pause_at < 6 or latest + 12 > args.duration:
        p.error("--duration leaves too little load around the faults (6 s before, 12 s after)")
    return args


def _terminate(signum, frame):
    log(f"stopping on {signal.Signals(signum).name}: cleaning up")
    raise SystemExit(128 + signum)  # unwinds through every finally: the cluster goes down


def main(argv=None) -> int:
    args = parse(argv)
    try:
        ensure_venv()
        run._ensure_aiohttp()
    except (HarnessError, subprocess.CalledProcessError) as error:
        log(f"error: {error}")
        return 2
    if os.geteuid() != 0:
        log("error: run as root (deploy/cluster.py makes a PostgreSQL cluster and runs nginx)")
        return 2
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(sig, _terminate)
    chosen = list(CHECKS) if args.check == "all" else [args.check]
    signal.alarm(SETUP_BUDGET_SECONDS + len(chosen) * (max(args.duration, 60) + 120))
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    verdicts = []
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(run._exclusive())  # one reliability run at a time
            run_dir = Path(tempfile.mkdtemp(prefix="socialapi-scale-"))
            stack.callback(shutil.rmtree, run_dir, ignore_errors=True)
            context = None
            stack.callback(lambda: cluster_load.tear_down(context, args.keep_cluster))
            context = cluster_load.set_up(args, run_dir, stamp)
            for name in chosen:
                cluster_load.ensure_up()
                summary, problems = CHECKS[name](context)
                print(f"\n{header(name, context)}\n\n{summary}")
                verdict = f"FAILED: {'; '.join(problems)}" if problems else "PASSED"
                print(f"\n{name}: {verdict}", flush=True)
                verdicts.append((name, verdict))
                cluster_load.clean(context)
            log(f"{cluster_load.DATABASE} is {cluster_load.database_size()} on the primary")
    except (HarnessError, ClusterError, subprocess.CalledProcessError) as error:
        log(f"error: {error}")
        return 2
    except KeyboardInterrupt:
        log("interrupted: the cluster is taken down and the run's writes undone")
        return 130
    if len(verdicts) > 1:
        print("\n" + "\n".join(f"{name}: {verdict}" for name, verdict in verdicts))
    failed = [name for name, verdict in verdicts if verdict != "PASSED"]
    print(f"\nFAILED: {', '.join(failed)}" if failed else "\nPASSED")
    return 1 if failed else 0


def header(name: str, ctx) -> str:
    counts = ctx.info["counts"]
    return (
        f"socialapi scale-out: {name}, {datetime.now():%Y-%m-%d %H:%M}, git "
        f"{machine.git_info()['commit']}; nginx -> 2 gunicorn x 2 gthread workers x 4 threads, "
        f"PostgreSQL primary {MAIN_PORT} + streaming replica "
        f"{cluster_load.cluster.REPLICA_PORT}, Redis; {cluster_load.DATABASE}: "
        f"{counts['users']:,} users, {counts['posts']:,} posts, {counts['votes']:,} votes; "
        f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}, "
        f"{len(os.sched_getaffinity(0))} cores"
    )


if __name__ == "__main__":
    sys.exit(main())
