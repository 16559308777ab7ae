"""Keyed writes: each logical write carries one `Idempotency-Key`, and every retry of it too.

A POST that got no answer, a 5xx (503 while PostgreSQL is down) or the 409 that says its key's
first request is still running may or may not have had its effect; sent again under the same
key, it has it at most once and the answer tells which (docs/api.md Part 4: a replay carries
`Idempotent-Replayed: true`). So the load can retry every such write, and count each one once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
RUNNING = "still running"  # in the 409's detail: the key's first request has not ended yet
MAX_TRIES = 8
FIRST_BACKOFF = 0.1  # seconds, doubled each try up to MAX_BACKOFF unless Retry-After says more
MAX_BACKOFF = 2.0


@dataclass
class Write:
    """One logical write: its key, how many times it was sent, and its last answer."""

    endpoint: str
    started: float
    key: str = ""
    tries: int = 0
    status: int | None = None
    replayed: bool = False
    running: bool = False  # the last answer was the 409 "still running": retries ran out
    mark: str = ""  # what identifies its effect in the database (a post's title)

    def __post_init__(self) -> None:
        self.key = self.key or str(uuid.uuid4())

    @property
    def acked(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retries(self) -> int:
        return max(0, self.tries - 1)


def is_running(status: int | None, payload) -> bool:
    detail = payload.get("detail") if isinstance(payload, dict) else None
    return status == 409 and isinstance(detail, str) and RUNNING in detail


def retryable(sample) -> bool:
    """Whether the answer leaves the write's effect unknown: send it again under its key."""
    return sample.failed or sample.running


def retry_delay(sample, write: Write, elapsed: float, budget: float) -> float | None:
    """Seconds to wait before the next try, or None to stop: an answer that settles it, the
    tries used up, or the wait would end past `budget` seconds from the write's first try."""
    if not retryable(sample) or write.tries >= MAX_TRIES:
        return None
    delay = min(FIRST_BACKOFF * 2 ** (write.tries - 1), MAX_BACKOFF)
    if sample.retry_after_s is not None:
        delay = max(delay, sample.retry_after_s)
    return delay if elapsed + delay < budget else None


def writes_tally(writes: list[Write]) -> dict:
    return {
        "logical_writes": len(writes),
        "retries_sent": sum(w.retries for w in writes),
        "retried_writes": sum(w.tries > 1 for w in writes),
        "replays": sum(w.replayed for w in writes),
        "acknowledged": sum(w.acked for w in writes),
        "unsettled": sum(w.status is None or w.status >= 500 or w.running for w in writes),
    }
