"""Where the scale-out checks' queries and requests went: /metrics and nginx's logs.

Each instance's /metrics (django_db_execute_total by database alias) is read straight from its
port, never through nginx; nginx's access log (deploy/nginx.conf's `upstream` format) names the
instance that answered each request, and its error log why one failed.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.request
from pathlib import Path

from bench.common import LOOPBACK
from reliability.cluster_load import cluster

# --- where the queries went: each instance's /metrics -----------------------------------------

_COUNTER = re.compile(
    r'^django_db_(execute|errors)_total\{alias="([^"]+)"[^}]*\} ([0-9.e+]+)$', re.M
)
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def counters(port: int, timeout: float = 2) -> dict[tuple[str, str], float] | None:
    """{("execute" or "errors", alias): count} from one instance; None if it did not answer."""
    try:
        with _NO_PROXY.open(f"http://{LOOPBACK}:{port}/metrics", timeout=timeout) as response:
            text = response.read().decode()
    except OSError:
        return None
    found: dict[tuple[str, str], float] = {}
    for kind, alias, value in _COUNTER.findall(text):
        found[kind, alias] = found.get((kind, alias), 0.0) + float(value)
    return found


def queries(port: int, timeout: float = 2) -> dict[str, float] | None:
    """Statements that ran, by database alias, on one instance; None if it did not answer.

    django_db_execute_total less django_db_errors_total: a statement sent down a connection
    that a stopped replica has closed counts in both, and did not run there.
    """
    found = counters(port, timeout)
    if found is None:
        return None
    counts: dict[str, float] = {}
    for (kind, alias), value in found.items():
        counts[alias] = counts.get(alias, 0.0) + (value if kind == "execute" else -value)
    return counts


def errors_total(ports=cluster.APP_PORTS) -> dict[str, float]:
    """Statements that failed, by alias, summed over the instances (since each started)."""
    total: dict[str, float] = {}
    for port in ports:
        for (kind, alias), value in (counters(port) or {}).items():
            if kind == "errors":
                total[alias] = total.get(alias, 0.0) + value
    return total


def queries_total(ports=cluster.APP_PORTS) -> dict[str, float]:
    total: dict[str, float] = {}
    for port in ports:
        for alias, value in (queries(port) or {}).items():
            total[alias] = total.get(alias, 0.0) + value
    return total


class Scraper:
    """Each instance's query counts, scraped straight from its port every `every` seconds.

    One thread per instance, so a slow answer from one (its workers busy) delays no other.
    A scrape's counts were read somewhere between when it was sent and when it came back; it
    is kept at the time it came back, so a count "at t" is what was known by t: a query seen
    at t happened before t, and the last growth is an upper bound of the last query's time.
    Times are seconds from `t0` (the load's start, given once it is known).
    """

    def __init__(self, ports=cluster.APP_PORTS, every: float = 0.2, timeout: float = 5):
        self.ports = ports
        self.every = every
        self.timeout = timeout
        self.scrapes: dict[int, list[tuple[float, dict[str, float]]]] = {p: [] for p in ports}
        self.misses = 0
        self.t0 = 0.0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(p,), daemon=True) for p in ports]

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)

    def _run(self, port: int) -> None:
        while not self._stop.is_set():
            sent = time.monotonic()
            found = queries(port, timeout=self.timeout)
            if found is None:
                self.misses += 1
            else:
                self.scrapes[port].append((time.monotonic(), found))
            self._stop.wait(max(0.0, self.every - (time.monotonic() - sent)))

    @property
    def count_scrapes(self) -> int:
        return sum(len(rows) for rows in self.scrapes.values())

    def count(self, alias: str, at: float) -> float:
        """Queries on `alias` by all instances, as known at `at` (s from t0)."""
        total = 0.0
        for rows in self.scrapes.values():
            known = [row for row in rows if row[0] - self.t0 <= at] or rows[:1]
            total += known[-1][1].get(alias, 0.0) if known else 0.0
        return total

    def between(self, start: float, end: float) -> dict[str, float]:
        """{alias: queries between two times}."""
        aliases = {a for rows in self.scrapes.values() for _, counts in rows for a in counts}
        return {a: self.count(a, end) - self.count(a, start) for a in sorted(aliases)}

    def growths(self, alias: str, start: float, end: float) -> list[float]:
        """Times of the scrapes, back between `start` and `end`, that saw `alias` grow."""
        seen = []
        for rows in self.scrapes.values():
            for (_, before), (t, after) in zip(rows, rows[1:], strict=False):
                if start < t - self.t0 <= end and after.get(alias, 0) > before.get(alias, 0):
                    seen.append(t - self.t0)
        return sorted(seen)


def share_line(deltas: dict[str, float], label: str) -> str:
    primary = deltas.get("default", 0.0)
    replica = sum(v for alias, v in deltas.items() if alias != "default")
    total = primary + replica
    share = f"{replica / total:.1%}" if total else "-"
    return (
        f"{label}: {total:,.0f} queries, {primary:,.0f} on the primary, {replica:,.0f} on the "
        f"replica ({share})"
    )


# --- where the requests went: nginx's access log ------------------------------------------------

ACCESS_LOG = cluster.RUN_DIR / "nginx-access.log"
_ACCESS = re.compile(
    r'"(?P<method>\S+) \S+ [^"]*" (?P<status>\d+) \d+ '
    r"upstream=(?P<up>.*?) upstream_status=(?P<ups>.*?) request_time"
)


def access_mark(log_file: Path = ACCESS_LOG) -> int:
    """Where nginx's log ends now: what is read from here on happened after."""
    try:
        return log_file.stat().st_size
    except FileNotFoundError:
        return 0


ERROR_LOG = cluster.RUN_DIR / "nginx-error.log"
_ERROR = re.compile(r"\[(\w+)\] [^:]*: \*\d+ (.*?)(?: while .*?)?, client: .*?request: \"(\S+)")


def upstream_errors(start: int) -> dict[str, int]:
    """nginx's error log from a mark on: {"<level> <method>: <what failed>": how many}."""
    with ERROR_LOG.open("rb") as file:
        file.seek(start)
        text = file.read().decode(errors="replace")
    counts: dict[str, int] = {}
    for level, what, method in _ERROR.findall(text):
        key = f"{level} {method}: {what}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def access_entries(start: int, end: int | None = None) -> list[dict]:
    """nginx's log lines between two marks: the method, the status, and each upstream tried."""
    with ACCESS_LOG.open("rb") as file:
        file.seek(start)
        data = file.read() if end is None else file.read(end - start)
    rows = []
    for line in data.decode(errors="replace").splitlines():
        found = _ACCESS.search(line)
        if found:
            rows.append(
                {
                    "method": found["method"],
                    "status": int(found["status"]),
                    "upstreams": [u.strip() for u in found["up"].split(",")],
                    "upstream_statuses": [s.strip() for s in found["ups"].split(",")],
                }
            )
    return rows


def upstream_shares(rows: list[dict]) -> dict[str, int]:
    """Requests by the instance that answered them last (a retried one: the second)."""
    shares: dict[str, int] = {}
    for row in rows:
        last = row["upstreams"][-1]
        shares[last] = shares.get(last, 0) + 1
    return dict(sorted(shares.items()))
