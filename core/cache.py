"""Read caching that stays exact: every key carries version numbers that writes bump.

A reader fetches the current versions first and builds its key from them; a write bumps the
versions when it happens and again once its transaction has committed, before its response
goes out. So the very next
request, on any worker, looks under new keys and never sees what the write changed. Entries
under old versions are simply never read again and expire.

Only worth it, and only correct, with a cache every worker shares (Redis): settings.API_CACHE
is on by default exactly when REDIS_URL is set. If the cache fails, reads go to the database.
"""

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

# Entries outlive no version change, but a cap keeps memory bounded if nothing changes.
ENTRY_SECONDS = 300


def enabled() -> bool:
    return settings.API_CACHE


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def versions(*names: str) -> tuple:
    """The current version of each name; a missing one starts at a number never used before."""
    keys = [f"version:{name}" for name in names]
    found = cache.get_many(keys)
    missing = [key for key in keys if key not in found]
    if missing:
        for key in missing:
            # Nanoseconds since the epoch: a fresh start can never meet an old entry's key.
            cache.add(key, time.time_ns(), timeout=None)
        found.update(cache.get_many(missing))
    return tuple(found[key] for key in keys)


def invalidate(*names: str) -> None:
    """Move the versions of `names` now, and again once the current transaction commits.

    Now: later reads in this transaction miss. At commit: a read that ran between the two bumps
    saw the database before the commit, and whatever it cached goes stale with the second bump.
    """
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


def read_through(key: str, *, versions_of: tuple[str, ...], compute):
    """`compute()`, cached under `key` and the current versions of `versions_of`.

    Straight to `compute()` when caching is off or the cache fails. A `None` result is cached
    too (wrapped in a tuple), so "not found" costs no query either.
    """
    if not enabled():
        return compute()
    try:
        full_key = ":".join([key, *map(str, versions(*versions_of))])
        hit = cache.get(full_key)
    except Exception:
        logger.warning("Cache read failed for %s", key, exc_info=True)
        return compute()
    if hit is not None:
        return hit[0]
    value = compute()
    try:
        cache.set(full_key, (value,), ENTRY_SECONDS)
    except Exception:
        logger.warning("Cache write failed for %s", key, exc_info=True)
    return value
