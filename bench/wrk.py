"""Running one scenario with wrk against the server and turning wrk's report into a result."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from bench.common import LOOPBACK, LUA, HarnessError, log
from bench.probe import BENCH_TITLE_PREFIX
from bench.scenarios import CEILING, Scenario, by_key
from bench.servers import (
    Server,
    http_request,
    login_token,
    login_tokens,
    read_cache_counts,
    server_log_summary,
)

# A token is reused for this long, well inside the default 30-minute access token lifetime.
TOKEN_REUSE_SECONDS = 600


class Runner:
    """Runs scenarios with wrk against one server and turns wrk's report into results."""

    def __init__(self, server: Server, info: dict, run_dir: Path, args):
        self.server = server
        self.info = info
        self.run_dir = run_dir
        self.args = args
        self._token = None
        self._token_at = 0.0
        self.members = 0
        self.members_login_s = None
        self._members_at = None

    def token(self) -> str:
        # Not one per run: each login is an Argon2 hash, CPU taken from the run that follows.
        if self._token is None or time.monotonic() - self._token_at > TOKEN_REUSE_SECONDS:
            self._token = login_token(
                self.server.port, self.info["demo_email"], self.info["demo_password"]
            )
            self._token_at = time.monotonic()
        return self._token

    def log_in_members(self) -> Path:
        """member_tokens.txt for mixed.lua: a line per member, its token, then its vote pool.

        Every member logs in once, before the load it would otherwise slow, and again only once
        the tokens are TOKEN_REUSE_SECONDS old. The file stays in the run's private directory.
        """
        path = self.run_dir / "member_tokens.txt"
        if self._members_at and time.monotonic() - self._members_at < TOKEN_REUSE_SECONDS:
            return path
        members = [line.split() for line in (self.run_dir / "members.txt").read_text().splitlines()]
        if not members:
            raise HarnessError("no demo-user-N accounts to log in as: seed the database first")
        started = time.monotonic()
        tokens = login_tokens(
            self.server.port, [email for email, *_ in members], self.info["demo_password"]
        )
        self.members_login_s = round(time.monotonic() - started, 1)
        self._members_at = time.monotonic()
        self.members = len(tokens)
        lines = (
            " ".join([token, *pool]) for token, (_, *pool) in zip(tokens, members, strict=True)
        )
        path.write_text("".join(f"{line}\n" for line in lines))
        log(f"  logged in {self.members} members in {self.members_login_s:.1f} s")
        return path

    def warm_up(self) -> None:
        """Unrecorded runs, so the first scenario does not pay for imports and connections."""
        log("  warming up")
        for warm in (CEILING, by_key("posts_limit10")):
            self.run(warm, self.args.connections[0], 2)

    def drain(self, limit: float = 60.0) -> float:
        """Seconds until the server has worked off what the last run left queued.

        wrk closes its connections when its time is up, but the requests already queued in the
        listen backlog are still served; the next run must not start while they are. A /healthz
        request joins the back of that queue, so a prompt answer means the queue is empty.
        """
        started = time.monotonic()
        while time.monotonic() - started < limit:
            asked = time.monotonic()
            try:
                status, _ = http_request(self.server.port, "GET", "/healthz", timeout=limit)
            except OSError:
                status = None
            if status == 200 and time.monotonic() - asked < 0.1:
                break
            time.sleep(0.1)
        drained = time.monotonic() - started
        time.sleep(0.5)  # the requests the workers hold right now
        return round(drained, 2)

    def run(self, scenario: Scenario, connections: int, duration: int, path: str | None = None):
        port = self.server.port
        threads = max(1, min(self.args.threads, connections))
        url_path = path or scenario.path
        env = dict(os.environ)
        if scenario.auth:
            env["BENCH_TOKEN"] = self.token()
        if scenario.ids:
            env["BENCH_IDS_FILE"] = str(self.run_dir / f"{scenario.ids}.txt")
        if scenario.key == "login":
            env["BENCH_PASSWORD"] = self.info["demo_password"]
        if scenario.mix:
            env.update(self._mix_env(scenario))
            threads = min(threads, self.members)  # a member on two threads would vote out of turn
        env["BENCH_THREADS"] = str(threads)
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s"]
        command += [f"--timeout={self.args.timeout}s", "-s", str(LUA / scenario.script)]
        if scenario.script == "get.lua":
            command.append(f"http://{LOOPBACK}:{port}{url_path}")
        else:
            command += [f"http://{LOOPBACK}:{port}/", "--", url_path]
        log_start = self.server.log_path.stat().st_size
        cache_before = read_cache_counts(port)
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=env,
            timeout=duration + self.args.timeout + 60,
            check=False,
        )
        if self.server.process.poll() is not None:
            raise HarnessError(
                f"gunicorn died during {scenario.label} (exit {self.server.process.returncode}):"
                f"\n{self.server.log_tail()}"
            )
        drain_s = self.drain()
        log_slice = server_log_summary(self.server.log_path, log_start)
        report = next(
            (
                json.loads(line.removeprefix("BENCH_JSON "))
                for line in result.stdout.splitlines()
                if line.startswith("BENCH_JSON ")
            ),
            None,
        )
        if report is None:
            raise HarnessError(
                f"wrk gave no report for {scenario.label} (exit {result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        outcome = summarize(report, scenario, connections, url_path)
        if scenario.mix:
            outcome["mix"] = dict(scenario.mix)
            outcome["members"] = self.members
        outcome["server_log"] = log_slice
        outcome["drain_s"] = drain_s
        outcome["read_cache"] = _per_request(cache_before, read_cache_counts(port), outcome)
        return outcome

    def _mix_env(self, scenario: Scenario) -> dict:
        """What mixed.lua reads: the members' tokens and pools, the id files, the mix."""
        return {
            "BENCH_MEMBERS_FILE": str(self.log_in_members()),
            "BENCH_POST_IDS_FILE": str(self.run_dir / "public_post_ids.txt"),
            "BENCH_USER_IDS_FILE": str(self.run_dir / "all_user_ids.txt"),
            "BENCH_COMMENTED_IDS_FILE": str(self.run_dir / "commented_post_ids.txt"),
            "BENCH_MIX": ",".join(f"{key}={share}" for key, share in scenario.mix),
            "BENCH_TITLE_PREFIX": BENCH_TITLE_PREFIX,
        }


def _per_request(before: dict | None, after: dict | None, outcome: dict) -> dict | None:
    """The read cache's lookups per response of the run, found current or not (None: not
    counted), so a scenario shows how much of it the cache served."""
    if before is None or after is None or not outcome["requests"]:
        return None
    return {
        result: round((after[result] - before[result]) / outcome["requests"], 2)
        for result in ("hit", "miss")
    }


def summarize(report: dict, scenario: Scenario, connections: int, path: str) -> dict:
    seconds = report["duration_us"] / 1e6
    statuses = {int(code): count for code, count in report["statuses"].items()}
    ok = sum(count for code, count in statuses.items() if 200 <= code < 300)
    errors = {k: int(report["errors"].get(k, 0)) for k in ("connect", "read", "write", "timeout")}
    percentiles = report["latency_us"]["percentiles"]
    p50 = _ms(percentiles.get("50"))
    p99 = _ms(percentiles.get("99"))
    return {
        "key": scenario.key,
        "label": scenario.label,
        "path": path,
        "connections": connections,
        "seconds": round(seconds, 2),
        "requests": report["requests"],
        "rps": round(report["requests"] / seconds, 1) if seconds else 0.0,
        "ok_rps": round(ok / seconds, 1) if seconds else 0.0,
        "p50_ms": p50,
        "p75_ms": _ms(percentiles.get("75")),
        "p90_ms": _ms(percentiles.get("90")),
        "p99_ms": p99,
        "p999_ms": _ms(percentiles.get("99.9")),
        "max_ms": _ms(report["latency_us"].get("max")),
        "p99_over_p50": round(p99 / p50, 2) if p50 and p99 else None,
        "statuses": {str(code): statuses[code] for code in sorted(statuses)},
        "non_2xx": sum(statuses.values()) - ok,
        "errors": errors,
        "socket_errors": sum(errors.values()),
    }


def _ms(microseconds) -> float | None:
    return None if microseconds is None else round(microseconds / 1000, 2)


def wrk_version() -> str:
    result = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    first = (result.stdout or result.stderr).splitlines()
    return first[0].split(" Copyright")[0].strip() if first else "wrk"
