"""Read caching that stays exact: every key carries version numbers that writes move.

A version is a name ("posts", "post:42", "user:7") whose value in the shared cache changes on
every write that could change what was cached under it. A reader reads the versions it needs
(once per request, several in one round trip) and builds its keys from them; a write moves them
when it happens and again once its transaction has committed, before its response goes out. So
the very next request, on any worker, looks under new keys and never sees what the write changed.

Because a key names the versions it was computed at, an entry can never go stale: it is only
never read again. That makes a small in-process memory in front of the shared cache safe too,
and a hit then costs no round trip beyond the versions. Versions are random numbers, never
counted up, so a version that expires or is evicted can only move readers on, never back.

Fine-grained names keep a write from retiring what it did not change: a vote moves its post's
version and the voter's, not every cached page. Every key also carries the "epoch", which
`invalidate_all()` moves after bulk writes that bypass the models (seed_demo's COPY).

Writes are seen through the models (posts/models.py, accounts/signals.py), so they must go
through save() and delete(); a bulk write (`QuerySet.update()`, COPY) calls `invalidate()` or
`invalidate_all()` itself, as seed_demo does.

Only correct with a cache every worker shares (Redis), where the versions live:
settings.API_CACHE is on by default exactly when REDIS_URL is set. If the cache fails, reads
go to the database.
"""

import hashlib
import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

EPOCH = "epoch"
# Shared entries expire so memory stays bounded even when nothing changes for a long time.
ENTRY_SECONDS = 300
# A version unused this long may go: whoever needs it again starts a new one.
VERSION_SECONDS = 7 * 24 * 3600
# Entries kept in each process, least recently used dropped first.
MEMORY_ENTRIES = 8192


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


def _version_key(name: str) -> str:
    return f"version:{name}"


def _new_version() -> int:
    return secrets.randbits(62)


def _read_versions(names: Iterable[str]) -> dict:
    keys = {name: _version_key(name) for name in names}
    found = cache.get_many(keys.values())
    missing = [key for key in keys.values() if key not in found]
    if missing:
        for key in missing:
            cache.add(key, _new_version(), timeout=VERSION_SECONDS)
        found.update(cache.get_many(missing))
    return {name: found[key] for name, key in keys.items()}


def versions(request, *names: str) -> dict:
    """The current versions of `names` (and the epoch), read at most once per request.

    Names not read yet in this request are read together in one round trip; all are read again
    after a write in this process.
    """
    memo = getattr(request, "_cache_versions", None)
    if memo is None or memo[0] != _writes:
        memo = (_writes, {})
        request._cache_versions = memo
    known = memo[1]
    wanted = [name for name in (EPOCH, *names) if name not in known]
    if wanted:
        known.update(_read_versions(wanted))
    return known


# Versions an authenticated request is likely to want, read with the token's user: "{id}" is
# the member's id. Apps add theirs (register_member_versions) in their AppConfig.ready().
_member_templates = ["user:{id}"]


def register_member_versions(*templates: str) -> None:
    _member_templates.extend(t for t in templates if t not in _member_templates)


def member_versions(user_id: int) -> list[str]:
    return [template.format(id=user_id) for template in _member_templates]


def prefetch(request, *names: str) -> None:
    """Read `names` now, in the round trip the request makes anyway, for later reads to use."""
    if not enabled():
        return
    try:
        versions(request, *names)
    except Exception:
        logger.warning("Cache read failed for versions", exc_info=True)


def _full_key(key: str, names: Iterable[str], current: dict) -> str:
    return ":".join([key, str(current[EPOCH]), *(str(current[name]) for name in names)])


def read_through(request, key: str, *, versions_of: Iterable[str], compute: Callable):
    """`compute()`, cached under `key` and the current versions of `versions_of`.

    Straight to `compute()` when caching is off or the cache fails. A `None` result is cached
    too (wrapped in a tuple), so "not found" costs no query either.
    """
    if not enabled():
        return compute()
    try:
        full_key = _full_key(key, versions_of, versions(request, *versions_of))
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


def get_many(request, keys: dict[str, tuple[str, ...]]) -> dict:
    """{key: value} of the entries found for `keys` ({key: its version names}); no compute.

    The versions of all of them come in one round trip, the entries this process does not
    hold in another. Empty when caching is off or the cache fails.
    """
    if not enabled() or not keys:
        return {}
    try:
        full_keys = _full_keys(request, keys)
        entries = {}
        for key, full_key in full_keys.items():
            entry = memory.get(full_key)
            if entry is not None:
                entries[key] = entry
        wanted = {full_keys[key]: key for key in keys if key not in entries}
        if wanted:
            for full_key, entry in cache.get_many(wanted).items():
                entries[wanted[full_key]] = entry
                memory.put(full_key, entry)
    except Exception:
        logger.warning("Cache read failed for %d entries", len(keys), exc_info=True)
        return {}
    return {key: entry[0] for key, entry in entries.items()}


def put_many(request, items: dict[str, tuple[tuple[str, ...], object]]) -> None:
    """Cache {key: (its version names, value)}, in one round trip."""
    if not enabled() or not items:
        return
    try:
        full_keys = _full_keys(request, {key: names for key, (names, _) in items.items()})
        entries = {full_keys[key]: (value,) for key, (_, value) in items.items()}
        cache.set_many(entries, ENTRY_SECONDS)
    except Exception:
        logger.warning("Cache write failed for %d entries", len(items), exc_info=True)
        return
    for full_key, entry in entries.items():
        memory.put(full_key, entry)


def read_many(request, keys: dict[str, tuple[str, ...]], *, compute_missing: Callable) -> dict:
    """{key: value} for `keys` ({key: its version names}): cached, else computed and cached.

    `compute_missing(missing)` is called once with the keys found nowhere and returns
    {key: value}; a key it leaves out is cached as None (there is no such thing).
    """
    found = get_many(request, keys)
    missing = [key for key in keys if key not in found]
    if missing:
        computed = compute_missing(missing)
        fresh = {key: computed.get(key) for key in missing}
        put_many(request, {key: (keys[key], value) for key, value in fresh.items()})
        found.update(fresh)
    return found


def _full_keys(request, keys: dict[str, tuple[str, ...]]) -> dict[str, str]:
    current = versions(request, *{name for names in keys.values() for name in names})
    return {key: _full_key(key, names, current) for key, names in keys.items()}


def invalidate(*names: str) -> None:
    """Move the versions of `names` now, and again once the current transaction commits.

    Now: later reads in this transaction miss. At commit: a read that ran between the two moves
    saw the database before the commit, and whatever it cached goes stale with the second move.
    """
    if not enabled():
        return
    global _writes
    _writes += 1
    _move(names)
    transaction.on_commit(lambda: _move(names))


def invalidate_all() -> None:
    """Retire every cached entry: after a bulk write that no model saw."""
    invalidate(EPOCH)


def _move(names) -> None:
    try:
        cache.set_many({_version_key(name): _new_version() for name in names}, VERSION_SECONDS)
    except Exception:
        # A version that could not move would let readers see stale entries: say so loudly.
        logger.exception("Could not move cache versions %s", ", ".join(names))
