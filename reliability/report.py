"""The figures a check prints from the load's samples: tables, tallies, timelines, rates.

Every figure is counted from the samples, the client's own record of each request, so a check
reads the same figures whatever it did to the server or the database meanwhile.
"""

from __future__ import annotations

from collections import Counter

from reliability.load import ENDPOINTS, SOCKET_ERRORS, Sample


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def endpoint_table(samples: list[Sample], seconds: float, endpoints=ENDPOINTS) -> str:
    """Per endpoint (of `endpoints`, the load's) and in total: requests, statuses, socket
    errors, req/s and latency."""
    header = (
        f"{'endpoint':<22} {'requests':>8} {'2xx':>7} {'4xx':>5} {'503':>5} {'5xx!503':>7} "
        f"{'sock err':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}"
    )
    lines = [header, "-" * len(header)]
    groups = [(e.label, [s for s in samples if s.endpoint == e.key]) for e in endpoints]
    groups.append(("total", samples))
    for label, rows in groups:
        latencies = [(s.ended - s.started) * 1000 for s in rows if s.status is not None]
        statuses = Counter(s.status for s in rows if s.status is not None)
        lines.append(
            f"{label:<22} {len(rows):>8} {sum(s.ok for s in rows):>7} "
            f"{sum(n for c, n in statuses.items() if 400 <= c < 500):>5} {statuses[503]:>5} "
            f"{sum(n for c, n in statuses.items() if c >= 500 and c != 503):>7} "
            f"{sum(s.error is not None for s in rows):>8} "
            f"{len(rows) / seconds if seconds else 0:>7.1f} {_f(percentile(latencies, 0.5))} "
            f"{_f(percentile(latencies, 0.99))} {_f(max(latencies, default=None))}"
        )
    return "\n".join(lines)


def _f(value) -> str:
    return f"{value:>7.0f}" if value is not None else f"{'-':>7}"


def tally(samples: list[Sample]) -> dict:
    statuses = Counter(s.status for s in samples if s.status is not None)
    errors = Counter(s.error for s in samples if s.error is not None)
    return {
        "requests": len(samples),
        "ok": sum(s.ok for s in samples),
        "statuses": dict(sorted(statuses.items())),
        "server_errors": sum(n for c, n in statuses.items() if c >= 500),
        "non_2xx": sum(n for c, n in statuses.items() if not 200 <= c < 300),
        "socket_errors": sum(errors.values()),
        "errors": {k: errors[k] for k in SOCKET_ERRORS if errors[k]},
        "not_json": sum(not s.json_detail for s in samples),
        # 409 "still running": a retried write's key was still held; the client retries it.
        "running": sum(s.running for s in samples),
    }


def client_errors(totals: dict) -> int:
    """Answers neither 2xx nor 5xx (a tally's), less the 409 "still running" answers to a
    retried write, which the load retries under its key: the 4xx of a load that expects none."""
    return totals["non_2xx"] - totals["server_errors"] - totals["running"]


def unexpected_4xx_problems(count: int) -> list[str]:
    """What fails a check: 4xx answers beyond those it expects (each check counts its own)."""
    return [f"{count} unexpected 4xx answers"] if count > 0 else []


def failure_problems(totals: dict, *, server_errors: bool = True) -> list[str]:
    """What fails a check that allows no failed request (a tally's): a socket error, or a 5xx
    unless `server_errors` is False (a check with its own rule for them, such as 503s)."""
    problems = []
    if server_errors and totals["server_errors"]:
        problems.append(f"{totals['server_errors']} 5xx answers")
    if totals["socket_errors"]:
        problems.append(f"{totals['socket_errors']} socket errors {totals['errors']}")
    return problems


def per_second(samples: list[Sample], seconds: float) -> list[Counter]:
    """Outcomes by the second in which each request ended: 'ok', a status, or an error."""
    buckets = [Counter() for _ in range(int(seconds) + 1)]
    for s in samples:
        bucket = buckets[min(int(s.ended), len(buckets) - 1)]
        bucket["ok" if s.ok else (s.error or s.status)] += 1
    return buckets


def timeline(samples: list[Sample], seconds: float, start: float, end: float, marks: dict) -> str:
    """One line per second from `start` to `end`: how requests ended, and what happened."""
    buckets = per_second(samples, seconds)
    lines = [f"  {'second':<9} {'2xx':>5} {'4xx':>5} {'503':>5} {'5xx!503':>7} {'sock err':>8}"]
    for second in range(max(0, int(start)), min(len(buckets), int(end) + 1)):
        bucket = buckets[second]
        client = sum(n for k, n in bucket.items() if isinstance(k, int) and 400 <= k < 500)
        server = sum(n for k, n in bucket.items() if isinstance(k, int) and k >= 500 and k != 503)
        errors = sum(n for k, n in bucket.items() if k in SOCKET_ERRORS)
        events = "; ".join(text for at, text in sorted(marks.items()) if int(at) == second)
        lines.append(
            f"  {f'{second}-{second + 1} s':<9} {bucket['ok']:>5} {client:>5} {bucket[503]:>5} "
            f"{server:>7} {errors:>8}  {events}".rstrip()
        )
    return "\n".join(lines)


def window_rates(samples: list[Sample], seconds: float, width: int = 10) -> str:
    """2xx per second, averaged over `width`-second windows of the load."""
    buckets = per_second(samples, seconds)[: int(seconds)]
    windows = [buckets[i : i + width] for i in range(0, len(buckets), width)]
    return " ".join(f"{sum(b['ok'] for b in w) / len(w):.0f}" for w in windows if w)
