"""One size from start to end: database, server, every scenario at every level, then cleanup."""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.common import LOOPBACK, RESULTS, ROOT, fmt, log
from bench.machine import git_info, machine_info
from bench.scenarios import CEILING, DEEP_SKIPS, Scenario, by_key, scenarios
from bench.seeding import SIZES, manage, prepare_database, probe
from bench.servers import Server, free_port, gunicorn_config, server_env, server_log_summary
from bench.wrk import Runner, wrk_version


def run_size(size_name: str, args, stamp: str) -> dict:
    RESULTS.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix=f"socialapi-bench-{size_name}-"))
    port = args.port or free_port()
    env = server_env(size_name, args, port, run_dir / "static")
    log_path = RESULTS / f"{stamp}-{size_name}-server.log"
    server = Server(env, port, log_path)
    result = {"schema": 1, "stamp": stamp, "size": size_name}
    try:
        log(f"== size {size_name}: database {env['BENCH_DATABASE']}")
        database = prepare_database(size_name, args, env)
        log("collectstatic (as the Procfile's web process does)")
        manage(env, "collectstatic", "--noinput", "--verbosity=0")
        info = probe(env, "prepare", str(run_dir), f"--members={args.members}")
        chosen = [
            s
            for s in scenarios(info["search"], info["members"], args.write_share)
            if not args.only or s.key in args.only
        ]
        result.update(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "target": vars(SIZES[size_name]),
                "database": {**database, "visible_posts": info["visible_posts"]},
                "machine": machine_info(),
                "git": git_info(),
                "server": {
                    "gunicorn": gunicorn_config(env),
                    "redis_url": env.get("REDIS_URL"),
                    "extra_env": dict(item.split("=", 1) for item in args.env),
                    "passed_env": {
                        k: os.environ[k]
                        for k in sorted(os.environ)
                        if k.startswith(("WEB_CONCURRENCY", "GUNICORN_", "CONN_MAX_AGE"))
                    },
                },
                "settings": {
                    "duration_s": args.duration,
                    "connections": args.connections,
                    "stall_connections": args.stall_connections,
                    "unloaded_duration_s": args.skip_duration,
                    "wrk_threads": args.threads,
                    "wrk_timeout_s": args.timeout,
                    "wrk": wrk_version(),
                    "members": args.members,
                    "write_share": args.write_share,
                },
                "search": {"word": info["search"], "matches": info["search_matches"]},
            }
        )
        log(f"starting gunicorn on {LOOPBACK}:{port} (log: {log_path.relative_to(ROOT)})")
        server.start()
        runner = Runner(server, info, run_dir, args)
        if any(s.mix for s in chosen):
            runner.log_in_members()  # before the warm-up: their hashes must not slow the ceiling
            result["members"] = {
                "logged_in": runner.members,
                "login_s": runner.members_login_s,
                "public_posts": info["public_posts"],
                "vote_pool": info["member_pool"],
                "follows": info.get("member_follows"),
            }
        runner.warm_up()
        result["scenarios"] = run_scenarios(runner, chosen, args)
        result["unloaded"] = run_unloaded(runner, info, args)
        result["hasher"] = result["unloaded"].pop("hasher")
        if args.stall_connections:
            result["stall"] = run_stall_check(runner, args)
        result["machine"]["loadavg_end"] = list(os.getloadavg())
        result["server_log"] = server_log_summary(log_path, 0)
    finally:
        server.stop()
        try:
            if (run_dir / "vote_ids.txt").exists():  # prepared: the scenarios may have written
                probe(env, "cleanup", str(run_dir))
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
    keep_log = args.keep_log or _log_shows_trouble(result)
    if not keep_log:
        log_path.unlink(missing_ok=True)
    result["server_log_file"] = str(log_path.relative_to(ROOT)) if keep_log else None
    return result


def run_scenarios(runner: Runner, chosen: list[Scenario], args) -> list[dict]:
    """At each connection level: the ceiling, every chosen scenario, the ceiling again."""
    results = []
    for connections in args.connections:
        before = step(runner, CEILING, connections, args.duration)
        level = [step(runner, s, connections, args.duration) for s in chosen]
        after = step(runner, CEILING, connections, args.duration)
        after["key"] = "ceiling_again"
        after["label"] = CEILING.label + " (again)"
        # Both ends of the level, so drift on a shared machine shows and averages out.
        ceiling = statistics.mean([before["ok_rps"], after["ok_rps"]])
        for outcome in (before, *level, after):
            outcome["ratio"] = round(outcome["ok_rps"] / ceiling, 3) if ceiling else None
            outcome["ceiling_ok_rps"] = round(ceiling, 1)
        results += [before, *level, after]
    return results


def step(runner: Runner, scenario: Scenario, connections: int, duration: int, path=None) -> dict:
    log(f"  {scenario.label}{'' if path is None else ' ' + path} at {connections} connections")
    outcome = runner.run(scenario, connections, duration, path)
    if scenario.writes:
        undone = probe(runner.server.env, "cleanup", str(runner.run_dir))
        outcome["cleanup"] = undone
    return outcome


def run_unloaded(runner: Runner, info: dict, args) -> dict:
    """One connection: what a request costs without queueing (deep skip, and a login)."""
    visible = info["visible_posts"]
    skips = sorted({s for s in DEEP_SKIPS if s < visible} | {int(visible * 0.9)})
    series = []
    for skip in skips:
        path = f"/posts/?limit=10&skip={skip}"
        scenario = Scenario("skip", "GET " + path, "get.lua", path)
        outcome = step(runner, scenario, 1, args.skip_duration)
        outcome["skip"] = skip
        outcome["skip_label"] = f"{skip} (90%)" if skip == int(visible * 0.9) else str(skip)
        series.append(outcome)
    base = series[0]["p50_ms"] if series else None
    for outcome in series:
        outcome["p50_over_skip0"] = round(outcome["p50_ms"] / base, 2) if base else None
    # Timed here, with the server idle between runs: the quietest moment the machine offers.
    hasher = probe(runner.server.env, "hasher")
    return {
        "skip": series,
        "skipped_offsets": [s for s in DEEP_SKIPS if s >= visible],
        "hasher": hasher,
        "login": step(runner, by_key("login"), 1, args.skip_duration),
    }


def run_stall_check(runner: Runner, args) -> dict:
    """Far more connections than workers: the server must queue or shed (503), never hang.

    It runs for at least twice wrk's timeout: wrk counts a request as timed out only once it
    has waited that long, which a run no longer than the timeout can never show.
    """
    scenario = Scenario("stall", "GET /posts/?limit=10", "get.lua", "/posts/?limit=10")
    connections = args.stall_connections
    outcome = step(runner, scenario, connections, max(args.duration, 2 * args.timeout))
    drained = outcome["drain_s"] if outcome["drain_s"] < 60 else None
    statuses = {int(code): n for code, n in outcome["statuses"].items()}
    server_errors = sum(n for code, n in statuses.items() if code >= 500 and code != 503)
    problems = []
    if outcome["requests"] < connections:
        # Every connection waits for its first answer: fewer answers than connections means
        # some waited the whole run.
        problems.append(f"{outcome['requests']} responses for {connections} connections")
    if outcome["errors"]["timeout"]:
        problems.append(f"{outcome['errors']['timeout']} timeouts (> {args.timeout} s)")
    if server_errors:
        problems.append(f"{server_errors} 5xx other than 503")
    if drained is None or drained > args.timeout:
        problems.append(f"requests still queued {fmt(drained, '.0f', '60+')} s after the run")
    outcome.update(
        {
            "shed_503": statuses.get(503, 0),
            "server_errors": server_errors,
            "health_after_s": drained,
            "verdict": "ok: no stall, no 5xx" if not problems else "STALL: " + "; ".join(problems),
        }
    )
    return outcome


def _log_shows_trouble(result: dict) -> bool:
    summary = result.get("server_log") or {}
    return bool(summary.get("error_lines") or summary.get("worker_timeouts"))
