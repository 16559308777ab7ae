"""Read caching that stays exact, in as few round trips to the cache as a request can take.

Versions. A version is a name ("posts", "post:42", "user:7") whose value in the shared cache
changes on every write that could change what was cached under it: the write moves it when it
happens and again once its transaction has committed, before its response goes out. Values are
random numbers, never counted up, so a version that expires or is evicted can only move readers
on, never back. Fine-grained names keep a write from retiring what it did not change: a vote
moves its post's version and the voter's, not every cached page. The "epoch" belongs to every
entry; `invalidate_all()` moves it after bulk writes that no model saw (seed_demo's COPY).

Entries. An entry is kept under a fixed key together with the versions it was computed at (its
stamp). A reader reads the current versions and the entries in the same round trip and uses an
entry only if its stamp is current: whatever was computed before a write was stamped with a
version that write has moved. A small memory in each process holds entries too; it needs no
round trip of its own, since its stamps are checked against the same current versions.

Round trips. Each request gathers what it will read, and the rate counters it will count (core.
throttling), and fetches them together (`Reader`): an API view plans its request before
authentication runs (core.generics), so a read served from the cache usually costs one round
trip, two for a page of posts (the posts' own versions). On this project's 2-core machine a
round trip to Redis costs 0.1-0.3 ms, as much as the rest of a cached read.

Writes are seen through the models (posts/models.py, accounts/signals.py), so they must go
through save() and delete(); a bulk write (`QuerySet.update()`, COPY) calls `invalidate()` or
`invalidate_all()` itself, as seed_demo does.

Only correct with a cache every worker shares (Redis), where the versions live:
settings.API_CACHE is on by default exactly when REDIS_URL is set. If the cache fails, reads go
to the database and rate counters let requests through.
"""

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import transaction

from core import metrics, replicas
from core.cache_store import ENTRY_PREFIX, LRU, store

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


memory = LRU(MEMORY_ENTRIES)
# Moves on every write in this process, so versions a request read before its own write are
# read again rather than reused.
_writes = 0


VERSION_PREFIX = "cache:version:"


def _version_key(name: str) -> str:
    return VERSION_PREFIX + name


def _entry_key(key: str) -> str:
    return ENTRY_PREFIX + key


def _new_version() -> int:
    return secrets.randbits(62)


# --- what one request reads -----------------------------------------------------------------


class Reader:
    """What one request reads from the cache, gathered so that few round trips bring it all.

    `want()` adds versions, entries ({key: its version names}) and counters ({key: seconds})
    to the next `fetch()`; `fetch()` sends everything wanted that is not known yet, in one
    round trip (two when a version has to be started).
    """

    def __init__(self):
        self.member = None  # whose request it is, once planned
        self.versions = {}
        self.entries = {}  # key -> (stamp, value) as fetched or kept in memory; None: not there
        self.names_of = {}  # key -> its version names
        self.counts = {}
        self._want_versions = set()
        self._want_entries = set()
        self._want_counters = {}
        self._writes = _writes

    def want(self, *, versions: Iterable[str] = (), entries=None, counters=None) -> None:
        for name in versions:
            if name not in self.versions:
                self._want_versions.add(name)
        for key, names in (entries or {}).items():
            self.names_of[key] = tuple(names)
            self._want_versions.update(name for name in names if name not in self.versions)
            if key not in self.entries:
                self._want_entries.add(key)
        self._want_counters.update(
            (key, seconds) for key, seconds in (counters or {}).items() if key not in self.counts
        )

    def fetch(self) -> None:
        if self._writes != _writes:  # this process wrote since: read every version again
            self._want_versions.update(self.versions)
            self.versions.clear()
            self._writes = _writes
        if self._want_versions or self._want_entries:
            self._want_versions.add(EPOCH)
        names = [name for name in self._want_versions if name not in self.versions]
        kept = {key: memory.get(key) for key in self._want_entries}
        self.entries.update((key, entry) for key, entry in kept.items() if entry is not None)
        keys = [key for key, entry in kept.items() if entry is None]
        counters = self._want_counters
        self._want_versions, self._want_entries, self._want_counters = set(), set(), {}
        if names or keys or counters:
            self._bring(store(), counters, names, keys)
        # Kept here but stale: another worker may have computed it already.
        stale = [
            key
            for key, entry in kept.items()
            if entry is not None and self.get(key, _MISSING) is _MISSING
        ]
        if stale:
            self._bring(store(), {}, [], stale)

    def _bring(self, store, counters: dict, names: list[str], keys: list[str]) -> None:
        # With replicas, the WAL positions this request's reads need come in the same round
        # trip as the versions they stamp what they compute with (core/replicas.py).
        positions = replicas.lsn_keys() if names else []
        counts, found = store.batch(
            counters,
            [_version_key(name) for name in names] + [_entry_key(key) for key in keys] + positions,
        )
        replicas.require({key: found.get(key) for key in positions})
        self.counts.update(counts)
        missing = [name for name in names if _version_key(name) not in found]
        if missing:  # first use, or expired: start them (a concurrent start wins, and is read)
            store.add_many(
                {_version_key(name): _new_version() for name in missing}, VERSION_SECONDS
            )
            found.update(store.batch({}, [_version_key(name) for name in missing])[1])
        self.versions.update((name, found[_version_key(name)]) for name in names)
        for key in keys:
            entry = found.get(_entry_key(key))
            self.entries[key] = entry  # None: asked, and not there (it is not asked again)
            if entry is not None:
                memory.put(key, entry)

    def stamp(self, key: str) -> tuple:
        return tuple(self.versions[name] for name in (EPOCH, *self.names_of[key]))

    def get(self, key: str, default=None):
        """The value of entry `key` if it is there and current, else `default`."""
        entry = self.entries.get(key)
        if entry is None or entry[0] != self.stamp(key):
            return default
        return entry[1]

    def plan(self, member_id: int | None) -> None:
        """Want what requests of this member read (register_member_reads), if caching is on."""
        self.member = member_id
        if member_id is not None:
            replicas.identify(member_id)
        if member_id is not None and enabled():
            versions, entries = member_reads(member_id)
            self.want(versions=versions, entries=entries)

    def put_many(self, values: dict) -> None:
        """Keep {key: value} (keys wanted before, so their versions are known): one round trip."""
        entries = {key: (self.stamp(key), value) for key, value in values.items()}
        store().set_many({_entry_key(key): entry for key, entry in entries.items()}, ENTRY_SECONDS)
        for key, entry in entries.items():
            self.entries[key] = entry
            memory.put(key, entry)


_MISSING = object()
# What an authenticated request is likely to read, with "{id}" for the member's id: apps add
# theirs in AppConfig.ready(). Read in the round trip that brings the token's user.
_member_versions: list[str] = []
_member_entries: dict[str, tuple[str, ...]] = {}


def register_member_reads(*, versions: Iterable[str] = (), entries=None) -> None:
    _member_versions.extend(name for name in versions if name not in _member_versions)
    _member_entries.update(entries or {})


def member_reads(member_id: int) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    versions = [name.format(id=member_id) for name in _member_versions]
    entries = {
        key.format(id=member_id): tuple(name.format(id=member_id) for name in names)
        for key, names in _member_entries.items()
    }
    return versions, entries


def reader(request) -> Reader:
    """The request's Reader, kept on Django's request under DRF's: a safe request that runs
    again on the primary after its replica failed (core.replicas) reuses what it fetched and
    counts its rates once."""
    request = getattr(request, "_request", request)
    found = getattr(request, "_cache_reader", None)
    if found is None:
        found = request._cache_reader = Reader()
    return found


def want(request, *, versions: Iterable[str] = (), entries=None, counters=None) -> None:
    """Add these to the request's next round trip to the cache (see Reader.want)."""
    reader(request).want(versions=versions, entries=entries, counters=counters)


def kept(key: str):
    """The value this process last held for entry `key`, current or not (None: none).

    For planning only: what a request will likely need next, to want it in the same round trip.
    """
    entry = memory.get(key)
    return None if entry is None else entry[1]


def fetch(request) -> None:
    """Bring what the request wants now; a failing cache is logged and nothing is brought."""
    try:
        reader(request).fetch()
    except Exception:
        logger.warning("Cache read failed", exc_info=True)


def count(request, key: str, seconds: int) -> int | None:
    """Count one more under `key` (a window of `seconds`), or None if the cache failed.

    Counted already if the request planned it (`want(counters=...)`): then no round trip. Once
    per request: asked again (the request running again), it answers the same count.
    """
    found = reader(request)
    if key not in found.counts:
        found.want(counters={key: seconds})
        try:
            found.fetch()
        except Exception:
            logger.warning("Rate counter failed; letting the request through", exc_info=True)
            return None
    return found.counts.get(key)


def read_through(request, key: str, *, versions_of: Iterable[str], compute: Callable):
    """`compute()`, cached under `key` and stamped with the current versions of `versions_of`.

    Straight to `compute()` when caching is off or the cache fails. A `None` result is cached
    too, so "not found" costs no query either.
    """
    return read_many(
        request, {key: tuple(versions_of)}, compute_missing=lambda _: {key: compute()}
    )[key]


def get_many(request, keys: dict[str, tuple[str, ...]]) -> dict:
    """{key: value} of the entries found current for `keys` ({key: its version names})."""
    if not enabled() or not keys:
        return {}
    found = reader(request)
    found.want(entries=keys)
    try:
        found.fetch()
        values = {key: found.get(key, _MISSING) for key in keys}
    except Exception:
        logger.warning("Cache read failed for %d entries", len(keys), exc_info=True)
        values = {}
    current = {key: value for key, value in values.items() if value is not _MISSING}
    if current:
        metrics.READ_CACHE_HITS.inc(len(current))
    if len(current) < len(keys):
        metrics.READ_CACHE_MISSES.inc(len(keys) - len(current))
    return current


def put_many(request, items: dict[str, tuple[tuple[str, ...], object]]) -> None:
    """Keep {key: (its version names, value)}, stamped with the versions this request read."""
    if not enabled() or not items:
        return
    found = reader(request)
    try:
        found.want(entries={key: names for key, (names, _) in items.items()})
        found.fetch()  # the versions, if not read yet
        found.put_many({key: value for key, (_, value) in items.items()})
    except Exception:
        logger.warning("Cache write failed for %d entries", len(items), exc_info=True)


def read_many(request, keys: dict[str, tuple[str, ...]], *, compute_missing: Callable) -> dict:
    """{key: value} for `keys` ({key: its version names}): cached, else computed and kept.

    `compute_missing(missing)` is called once with the keys found nowhere and returns
    {key: value}; a key it leaves out is kept as None (there is no such thing).
    """
    found = get_many(request, keys)
    missing = [key for key in keys if key not in found]
    if missing:
        computed = compute_missing(missing)
        fresh = {key: computed.get(key) for key in missing}
        put_many(request, {key: (keys[key], value) for key, value in fresh.items()})
        found.update(fresh)
    return found


# --- writes -----------------------------------------------------------------------------------


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
    transaction.on_commit(lambda: _move_after_commit(names))


def invalidate_found(names_of: Callable[[], Iterable[str]], *, failing: Iterable[str]) -> None:
    """`invalidate()` names that a query finds (the followers of a member, say): found and moved
    now, found again and moved once the current transaction commits, so a name that appeared
    meanwhile (a follow committed in between) is moved too. Should the query fail after the
    commit, the names in `failing` (wider ones) move instead: the write has happened."""
    if not enabled():
        return
    global _writes
    _writes += 1
    _move(tuple(names_of()))

    def after_commit():
        try:
            names = tuple(names_of())
        except Exception:
            logger.exception("Could not find the cache versions to move; moving %s", failing)
            names = tuple(failing)
        _move_after_commit(names)

    transaction.on_commit(after_commit)


def invalidate_all() -> None:
    """Retire every cached entry: after a bulk write that no model saw."""
    invalidate(EPOCH)


def _move_after_commit(names) -> None:
    replicas.record_commit()  # first: a reader who sees the moved versions sees its WAL position
    _move(names)


def _move(names) -> None:
    try:
        store().set_many({_version_key(name): _new_version() for name in names}, VERSION_SECONDS)
    except Exception:
        # A version that could not move would let readers see stale entries: say so loudly.
        logger.exception("Could not move cache versions %s", ", ".join(names))
