"""Read caching that stays exact: every key carries version numbers that writes bump.

A reader reads the current versions first (one round trip to the shared cache per request)
and builds its keys from them; a write bumps the versions when it happens and again once its
transaction has committed, before its response goes out. So the very next request, on any
worker, looks under new keys and never sees what the write changed.

Because a key names the versions it was computed at, an entry can never go stale: it is only
never read again. That makes a small in-process memory in front of the shared cache safe too,
and a hit then costs no round trip beyond the versions.

Writes are seen through model signals (posts/signals.py, accounts/signals.py), so they must go
through save() and delete(); a bulk write (`QuerySet.update()`, COPY) calls `invalidate()`
itself, as seed_demo does.

Only correct with a cache every worker shares (Redis), where the versions live:
settings.API_CACHE is on by default exactly when REDIS_URL is set. If the cache fails, reads
go to the database.
"""

import hashlib
import logging
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

# Everything cached depends on some of these; all are read together, once per request.
VERSIONED = ("posts", "votes", "users")
# Shared entries expire so memory stays bounded even when nothing changes for a long time.
ENTRY_SECONDS = 300
# Entries kept in each process, least recently used dropped first.
MEMORY_ENTRIES = 2048


def enabled() -> bool:
    return settings.API_CACHE


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode(errors="surrogatepass"), digest_size=12).hexdigest()


class _Memory:
    """A small LRU dict shared by the threads of one process."""

    def __init__(self, size: int):
        self.size = size
        self.entries = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key, entry) -> None:
        with self.lock:
            self.entries[key] = entry
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


memory = _Memory(MEMORY_ENTRIES)
# Moves on every write in this process, so versions a request read before its own write are
# read again rather than reused.
_writes = 0


def _read_versions() -> dict:
    keys = {name: f"version:{name}" for name in VERSIONED}
    found = cache.get_many(keys.values())
    missing = [key for key in keys.values() if key not in found]
    if missing:
        for key in missing:
            # Nanoseconds since the epoch: a fresh start never meets an earlier entry's key.
            cache.add(key, time.time_ns(), timeout=None)
        found.update(cache.get_many(missing))
    return {name: found[key] for name, key in keys.items()}


def versions(request) -> dict:
    """The current versions, read once per request (and again after a write in it)."""
    memo = getattr(request, "_cache_versions", None)
    if memo is None or memo[0] != _writes:
        memo = (_writes, _read_versions())
        request._cache_versions = memo
    return memo[1]


def read_through(request, key: str, *, versions_of: tuple[str, ...], compute):
    """`compute()`, cached under `key` and the current versions of `versions_of`.

    Straight to `compute()` when caching is off or the cache fails. A `None` result is cached
    too (wrapped in a tuple), so "not found" costs no query either.
    """
    if not enabled():
        return compute()
    try:
        current = versions(request)
        full_key = ":".join([key, *(str(current[name]) for name in versions_of)])
        entry = memory.get(full_key) or cache.get(full_key)
    except Exception:
        logger.warning("Cache read failed for %s", key, exc_info=True)
        return compute()
    if entry is None:
        entry = (compute(),)
        try:
            cache.set(full_key, entry, ENTRY_SECONDS)
        except Exception:
            logger.warning("Cache write failed for %s", key, exc_info=True)
    memory.put(full_key, entry)
    return entry[0]


def invalidate(*names: str) -> None:
    """Move the versions of `names` now, and again once the current transaction commits.

    Now: later reads in this transaction miss. At commit: a read that ran between the two bumps
    saw the database before the commit, and whatever it cached goes stale with the second bump.
    """
    global _writes
    _writes += 1
    _bump(names)
    transaction.on_commit(lambda: _bump(names))


def _bump(names) -> None:
    for name in names:
        key = f"version:{name}"
        try:
            cache.incr(key)
        except ValueError:  # not there yet (or evicted): a fresh number works as well
            cache.add(key, time.time_ns(), timeout=None)
        except Exception:
            # A version that could not move would let readers see stale entries: say so loudly.
            logger.exception("Could not bump cache version %s", name)
