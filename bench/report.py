"""The result as a table on stdout: every scenario, the members' mix, deep skip, stall, login."""

from __future__ import annotations

import sys

from bench.common import fmt
from bench.scenarios import FEED, MIX
from bench.seeding import counts_text


def print_report(result: dict, out=sys.stdout) -> None:
    machine = result["machine"]
    server = result["server"]["gunicorn"]
    counts = result["database"]["counts"]
    settings = result["settings"]
    git = result["git"]
    write = out.write
    write(
        f"\nsocialapi benchmark, size {result['size']} ({counts_text(counts)}), {result['date']}\n"
    )
    write(
        f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory']}, "
        f"{machine['os']}, PostgreSQL {machine['postgres']}, Python {machine['python']}; "
        f"load {', '.join(f'{x:.2f}' for x in machine['loadavg_start'])} at start\n"
    )
    write(
        f"server: gunicorn {server['worker_class']} x {server['workers']} workers x "
        f"{server['threads']} threads, redis {result['server']['redis_url'] or 'off'}; "
        f"git {git['commit']}{' (dirty)' if git['dirty'] else ''}\n"
    )
    write(
        f"load: {settings['wrk']}, {settings['wrk_threads']} threads, {settings['duration_s']} s "
        f"per scenario, timeout {settings['wrk_timeout_s']} s\n\n"
    )
    header = (
        f"{'scenario':<38} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'p99/p50':>7} {'non-2xx':>7} {'sock err':>8} {'restarts':>8} {'drain s':>7} "
        f"{'x ceiling':>9}\n"
    )
    write(header)
    write("-" * (len(header) - 1) + "\n")
    for row in result["scenarios"]:
        write(_row(row["label"], row, fmt(row.get("ratio"), ".2f")))
    write(
        "x ceiling: 2xx responses per second over the ceiling's (mean of its two runs)\n"
        "restarts: gunicorn workers booted during the run (max_requests recycling, crashes)\n"
        "drain s: how long requests still queued when wrk stopped took to clear (wrk cannot see\n"
        "  a request slower than the run; this can)\n"
    )
    _write_members(write, result)
    _write_statuses(write, result["scenarios"])
    _write_read_cache(write, result["scenarios"])

    unloaded = result.get("unloaded") or {}
    if unloaded.get("skip"):
        write(f"\ndeep skip, 1 connection, {settings['unloaded_duration_s']} s each\n")
        write(
            f"{'GET /posts/?limit=10&skip=':<38} {'conns':>5} {'req/s':>8} {'p50 ms':>8} "
            f"{'p99 ms':>8} {'p99/p50':>7} {'non-2xx':>7} {'sock err':>8} {'restarts':>8} "
            f"{'drain s':>7} {'x skip=0':>9}\n"
        )
        for row in unloaded["skip"]:
            write(_row(row["skip_label"], row, fmt(row.get("p50_over_skip0"), ".2f")))
        if unloaded.get("skipped_offsets"):
            skipped = ", ".join(str(s) for s in unloaded["skipped_offsets"])
            write(f"(skip {skipped}: beyond the {result['database']['visible_posts']:,} posts)\n")

    stall = result.get("stall")
    if stall:
        write(
            f"\nstall check: GET /posts/?limit=10 at {stall['connections']} connections for "
            f"{stall['seconds']:.0f} s: "
            f"{stall['rps']:.1f} req/s, p50 {fmt(stall['p50_ms'])} ms, "
            f"p99 {fmt(stall['p99_ms'])} ms, statuses {stall['statuses']}, "
            f"503 shed {stall['shed_503']}, other 5xx {stall['server_errors']}, "
            f"socket errors {stall['errors']}, "
            f"backlog drained {fmt(stall['health_after_s'], '.2f')} s after the run "
            f"-> {stall['verdict']}\n"
        )

    hasher = result["hasher"]
    login_rows = [r for r in result["scenarios"] if r["key"] == "login"]
    params = ", ".join(f"{k}={v}" for k, v in hasher["params"].items())
    write(f"\nPOST /login: password hasher {hasher['algorithm']} ({params})\n")
    write(
        f"  one hash in-process: {hasher['hash_ms']:.1f} ms median, {hasher['hash_ms_min']:.1f} "
        f"ms min, {hasher['hash_cpu_ms']:.1f} ms CPU (runs: {hasher['hash_ms_all']} ms)\n"
    )
    if unloaded.get("login"):
        alone = unloaded["login"]
        write(
            f"  1 connection: {alone['rps']:.1f} req/s, p50 {fmt(alone['p50_ms'])} ms "
            f"(the fastest hash is {_share(hasher['hash_ms_min'], alone['p50_ms'])} of it)\n"
        )
    for row in login_rows:
        cpu = row["ok_rps"] * hasher["hash_cpu_ms"] / 1000
        write(
            f"  {row['connections']} connections: {row['rps']:.1f} req/s, p50 "
            f"{fmt(row['p50_ms'])} ms; hashing alone takes {cpu:.2f} of the "
            f"{machine['cores']} cores\n"
        )

    trouble = result.get("server_log") or {}
    write(
        f"\nserver log: {trouble.get('error_lines', 0)} error lines, "
        f"{trouble.get('worker_timeouts', 0)} worker timeouts, "
        f"{trouble.get('worker_boots', 0)} worker boots"
    )
    if result.get("server_log_file"):
        write(f" (kept: {result['server_log_file']})")
    write("\n")
    if trouble.get("first_error"):
        write(f"  first error: {trouble['first_error']}\n")
    for row in result["scenarios"] + [stall or {}]:
        slice_ = row.get("server_log") or {}
        if slice_.get("error_lines") or slice_.get("worker_timeouts"):
            write(
                f"  during {row['label']} at {row['connections']}: {slice_['error_lines']} "
                f"error lines, {slice_['worker_timeouts']} worker timeouts\n"
            )


def _write_members(write, result: dict) -> None:
    """Who the member scenarios ran as, and their request mix: a column per scenario."""
    rows = list({row["key"]: row for row in result["scenarios"] if row.get("mix")}.values())
    if not rows:
        return
    members = result.get("members") or {}
    write(
        f"\nmembers: {members.get('logged_in', '-')} demo users, each with its own token, logged "
        f"in before the load ({fmt(members.get('login_s'))} s);\n  each toggles votes on its "
        f"own pool of {fmt(members.get('vote_pool'), '.0f')} public posts; GET /posts/{{id}} "
        f"over all {members.get('public_posts', 0):,} public posts;\n  each follows "
        f"{fmt(members.get('follows'), '.0f')} others on average (the feed)\n"
    )
    write(f"{'request mix: share of requests':<44}")
    write("".join(f" {row['key']:>13}" for row in rows) + "\n")
    for request in (*MIX, FEED):
        shares = [row["mix"].get(request.key) for row in rows]
        if any(shares):
            cells = "".join(f" {fmt(share, '.1%'):>13}" for share in shares)
            write(f"  {request.label:<42}{cells}\n")


def _write_statuses(write, rows: list[dict]) -> None:
    """Every status code and how many, for the member scenarios and any run with a non-2xx."""
    shown = [row for row in rows if row.get("mix") or row["non_2xx"]]
    if shown:
        write("\nstatus counts\n")
    for row in shown:
        counts = ", ".join(f"{code}: {count:,}" for code, count in row["statuses"].items())
        write(f"  {row['label']} at {row['connections']}: {counts}\n")


def _write_read_cache(write, rows: list[dict]) -> None:
    """How much of each run the cache served. A miss is an entry looked up and not found current:
    mostly a query and a write, but some are only looked for (a member's likes, wanted with
    their token's user, are read from the page's own entry when absent)."""
    cached = [row for row in rows if row.get("read_cache")]
    if cached:
        write("\nread cache, lookups per response: found current (hit) / not found (miss)\n")
    for row in cached:
        found = row["read_cache"]
        write(f"  {row['label']} at {row['connections']}: {found['hit']} / {found['miss']}\n")


def _row(label: str, row: dict, last: str) -> str:
    return (
        f"{label[:38]:<38} {row['connections']:>5} {row['rps']:>8.1f} {fmt(row['p50_ms']):>8} "
        f"{fmt(row['p99_ms']):>8} {fmt(row['p99_over_p50'], '.1f'):>7} {row['non_2xx']:>7} "
        f"{row['socket_errors']:>8} {row['server_log']['worker_boots']:>8} "
        f"{fmt(row.get('drain_s')):>7} {last:>9}\n"
    )


def _share(part, whole) -> str:
    return f"{part / whole:.0%}" if part and whole else "-"
