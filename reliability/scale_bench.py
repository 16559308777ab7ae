"""Check `bench`: bench's `mixed` scenario on one server alone, then through the whole cluster.

The same wrk, mixed.lua, members, mix and data (bench/wrk.py's Runner), in one run: (a) one
gunicorn straight on the primary, no replica, no nginx, with the cluster's worker total
(2 instances x 2 workers x 4 threads: the same capacity, so the ratio is the price of nginx,
two instances and the replica's routing, not of fewer workers), then (b) nginx in front of
the two instances that read on the replica, then (a) again: the mean of both (a) runs is the
single-server figure, so drift on a shared machine shows and averages out. Both the cluster
and the lone server share Redis and the primary; each (a) runs while the cluster idles.
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass
from pathlib import Path

from bench.common import fmt
from bench.scenarios import WRITE_SHARE, scenarios
from bench.seeding import counts_text
from bench.servers import server_log_summary
from bench.suite import step
from bench.wrk import Runner
from reliability import cluster_load, observe
from reliability.cluster_load import Context, cluster
from reliability.common import log

CLUSTER_WORKERS = {"WEB_CONCURRENCY": "4", "GUNICORN_THREADS": "4"}


class PreparedRunner(Runner):
    """bench's Runner with the members' tokens already minted (member_tokens.py)."""

    def log_in_members(self) -> Path:
        self.members = len(self.run_dir.joinpath("member_tokens.txt").read_text().splitlines())
        return self.run_dir / "member_tokens.txt"


@dataclass
class NginxTarget:
    """What bench's Runner asks of a Server, answered for nginx in front of the cluster."""

    port: int
    env: dict
    log_path: Path  # one instance's log: the Runner counts its errors; both are read below
    returncode: int | None = None

    @property
    def process(self):
        return self

    def poll(self) -> int | None:
        alive = cluster.nginx_pid() and all(cluster.app_pid(p) for p in cluster.APP_PORTS)
        return None if alive else 1

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def bench(ctx: Context) -> tuple[str, list[str]]:
    args = ctx.args
    wrk_args = argparse.Namespace(
        threads=2, timeout=args.timeout, connections=[args.bench_connections]
    )
    mixed = scenarios(ctx.info["search"], ctx.info["members"], WRITE_SHARE)[0]
    logs = [cluster.RUN_DIR / f"gunicorn-{port}.log" for port in cluster.APP_PORTS]
    target = NginxTarget(cluster.NGINX_PORT, ctx.env, logs[0])
    lone = cluster_load.lone_server(ctx.env, "single", ctx.tag, NUM_PROXIES="0", **CLUSTER_WORKERS)
    runs = []
    try:
        for name in ("single", "cluster", "single"):
            server = lone if name == "single" else target
            runner = PreparedRunner(server, ctx.info, ctx.run_dir, wrk_args)
            ports = [lone.port] if name == "single" else list(cluster.APP_PORTS)
            log(f"bench: {name} (port {server.port}), warm-up {args.warmup} s")
            step(runner, mixed, args.bench_connections, args.warmup)
            before = observe.queries_total(ports)
            offsets = [p.stat().st_size for p in logs]
            outcome = step(runner, mixed, args.bench_connections, args.bench_duration)
            outcome["queries"] = _delta(before, observe.queries_total(ports))
            outcome["name"] = name
            outcome["errors_logged"] = (
                sum(
                    server_log_summary(p, o)["error_lines"]
                    for p, o in zip(logs, offsets, strict=True)
                )
                if name == "cluster"
                else outcome["server_log"]["error_lines"]
            )
            runs.append(outcome)
    finally:
        lone.stop()
        trouble = server_log_summary(lone.log_path, 0)
        if not trouble["error_lines"] and not trouble["worker_timeouts"]:
            lone.log_path.unlink(missing_ok=True)
        else:
            log(f"kept the single server's log: {lone.log_path}")

    single = [r for r in runs if r["name"] == "single"]
    clustered = next(r for r in runs if r["name"] == "cluster")
    single_rps = statistics.mean(r["ok_rps"] for r in single)
    ratio = clustered["ok_rps"] / single_rps if single_rps else 0.0
    problems = []
    for run in runs:
        bad = run["socket_errors"] + sum(
            n for code, n in run["statuses"].items() if int(code) >= 500
        )
        if bad:
            problems.append(f"{run['name']}: {bad} socket errors or 5xx")
    if not clustered["queries"].get("replica_1"):
        problems.append("no query went to the replica")
    header = (
        f"{'run':<26} {'requests':>8} {'req/s':>7} {'2xx/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'sock err':>8}  statuses; queries (replica share)"
    )
    lines = [header, "-" * len(header)]
    labels = {
        "single": "(a) 1 gunicorn, 4w x 4t",
        "cluster": "(b) nginx, 2 x 2w x 4t",
    }
    for run in runs:
        q = run["queries"]
        total = sum(q.values())
        replica = total - q.get("default", 0.0)
        lines.append(
            f"{labels[run['name']]:<26} {run['requests']:>8} {run['rps']:>7.1f} "
            f"{run['ok_rps']:>7.1f} {fmt(run['p50_ms']):>7} {fmt(run['p99_ms']):>7} "
            f"{run['socket_errors']:>8}  {run['statuses']}; {total:,.0f} "
            f"({replica / total if total else 0:.1%}), {total / run['requests']:.2f}/request"
        )
    summary = "\n".join(
        [
            f"bench: bench's `mixed` ({ctx.info['members']} members, {WRITE_SHARE:.0%} writes), "
            f"wrk {args.bench_connections} connections, 2 threads, {args.bench_duration} s per run "
            f"after {args.warmup} s of warm-up; {cluster_load.DATABASE} "
            f"({counts_text(ctx.info['counts'])})",
            "",
            *lines,
            "(a) has the cluster's worker total (2 instances x 2 workers x 4 threads): the same "
            "capacity, so the ratio prices nginx, two instances and the replica's routing",
            "",
            f"cluster / single server: {clustered['ok_rps']:.1f} / {single_rps:.1f} 2xx/s = "
            f"{ratio:.2f} (single: mean of {' and '.join(str(r['ok_rps']) for r in single)}); "
            f"p50 {fmt(clustered['p50_ms'])} vs {fmt(_mean(single, 'p50_ms'))} ms, p99 "
            f"{fmt(clustered['p99_ms'])} vs {fmt(_mean(single, 'p99_ms'))} ms",
            observe.share_line(clustered["queries"], "cluster's queries (from /metrics)"),
            "server log error lines: "
            + ", ".join(f"{r['name']} {r['errors_logged']}" for r in runs),
        ]
    )
    return summary, problems


def _mean(runs: list[dict], key: str) -> float:
    return statistics.mean(r[key] for r in runs)


def _delta(before: dict, after: dict) -> dict:
    return {alias: after.get(alias, 0.0) - before.get(alias, 0.0) for alias in after}
