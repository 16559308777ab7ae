"""Reads on PostgreSQL streaming replicas, never behind what the reader could know already.

DATABASE_REPLICA_URLS adds the aliases in settings.DATABASE_REPLICAS. `ReplicaRouter` sends every
write to the primary, and so every read of a request that writes (POST, PUT, PATCH, DELETE),
of a transaction (select_for_update is one), of the admin and of a management command. Other
reads go to a replica when it has replayed the WAL past a required position, else to the primary:

- Read your writes. After a write request, the primary's WAL position (`pg_current_wal_lsn()`)
  is kept in Redis under the member's key (the client address for a visitor) before the
  response goes out; their later reads need a replica that has replayed that far
  (`pg_last_wal_replay_lsn()`), not one that merely waited some seconds.
- The exact read cache (core.cache). A cached entry is stamped with the versions a reader saw,
  and a write moves them after it commits. Here a commit first raises the shared position
  LSN_KEY to its own WAL position, then moves the versions, so a reader that sees a moved version
  also sees a position at least that write's: it reads that position in the same round trip as
  the versions, and its queries go to a replica only once it has replayed that far. So nothing a
  lagging replica returns is ever cached under versions newer than what it has seen.

A replica is skipped while it is down (tried again after RETRY_SECONDS) or lagging more than
REPLICA_MAX_LAG_SECONDS, and a safe request whose replica query fails (the replica stopped
under it) runs again on the primary: clients never see a replica's fault.
"""

import logging
import random
import time
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connections
from django.urls import reverse
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

PRIMARY = "default"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The newest WAL position a cache version may reflect (see the module docstring).
LSN_KEY = "replica:lsn"
MEMBER_LSN_PREFIX = "replica:lsn:"
LSN_SECONDS = 7 * 24 * 3600  # as long as a cache version lives
# A replica that failed is tried again after this long; its lag is looked at this often.
RETRY_SECONDS = 1.0
CHECK_SECONDS = 1.0
# Redis numbers in Lua are doubles: exact for WAL positions below 2**53 bytes (8 PiB of WAL).
_RAISE_TO = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
return 0
"""
_STATUS_SQL = """
SELECT pg_is_in_recovery(),
       pg_last_wal_replay_lsn() - '0/0'::pg_lsn,
       CASE WHEN pg_last_wal_receive_lsn() IS NULL
                 OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
       END
"""
_UNREACHABLE = float("inf")


def _cached() -> bool:
    return settings.API_CACHE


def _redis():
    """django-redis's client: settings refuse replicas without REDIS_URL."""
    return caches["default"].client.get_client(write=True)


def _key(key: str) -> str:
    return caches["default"].make_key(key)


# --- what each request may read -------------------------------------------------------------


@dataclass
class _Request:
    address: str  # the client's, as the throttles see it
    member: int | None = None
    pinned: bool = False  # everything on the primary: a write request, or a replica failed
    required: float | None = None  # the WAL position its reads need; None: not looked up yet
    wrote: bool = False  # wrote since its position was last recorded
    used: set = field(default_factory=set)  # the replicas it read from

    @property
    def writer_key(self) -> str:
        """Whose writes these are: the member's, or the address's for a visitor signing up."""
        if self.member is not None:
            return f"{MEMBER_LSN_PREFIX}user:{self.member}"
        return f"{MEMBER_LSN_PREFIX}addr:{self.address}"


_current: ContextVar[_Request | None] = ContextVar("replica_request", default=None)


def identify(member_id: int) -> None:
    """The request is this member's: their own writes are what their reads must see."""
    state = _current.get()
    if state is not None and state.member != member_id:
        state.member = member_id
        state.required = None  # their position was not asked for yet


def lsn_keys() -> list[str]:
    """The Redis keys a request's cache round trip should also read (core.cache)."""
    state = _current.get()
    if state is None or state.pinned:
        return []
    # The address's too: a visitor who signed up a moment ago is now a member logging in.
    keys = [f"{MEMBER_LSN_PREFIX}addr:{state.address}"]
    if state.member is not None:
        keys.append(state.writer_key)
    return [LSN_KEY, *keys] if _cached() else keys


def require(found: dict) -> None:
    """Raise the request's required position to what `lsn_keys()` found."""
    state = _current.get()
    if state is None or not found:
        return
    needed = max((found.get(key) or 0) for key in found)
    if LSN_KEY in found and found[LSN_KEY] is None:
        # The shared position was lost (evicted, flushed): a moved version may be ahead of every
        # replica, so the primary serves until the next commit records one again.
        needed = _UNREACHABLE
    state.required = max(state.required or 0, needed)


def _look_up(state: _Request) -> None:
    keys = lsn_keys()
    try:
        values = _redis().mget([_key(key) for key in keys])
    except Exception:
        logger.warning("Could not read WAL positions from Redis: reading the primary")
        state.required = _UNREACHABLE
        return
    require(
        {
            key: None if value is None else int(value)
            for key, value in zip(keys, values, strict=True)
        }
    )


# --- the replicas, as this process last saw them ---------------------------------------------


class _Replica:
    def __init__(self, alias: str):
        self.alias = alias
        self.lsn = -1
        self.lag = 0.0
        self.checked = float("-inf")
        self.down_until = float("-inf")

    def serves(self, required: float) -> bool:
        now = time.monotonic()
        if now < self.down_until:
            return False
        if now - self.checked > CHECK_SECONDS:
            self.check()
        if not self._fresh():
            return False
        if self.lsn >= required:
            return True
        self.check()  # it may have caught up since
        return self._fresh() and self.lsn >= required

    def _fresh(self) -> bool:
        return time.monotonic() >= self.down_until and (
            self.lag <= settings.REPLICA_MAX_LAG_SECONDS
        )

    def check(self) -> None:
        connection = connections[self.alias]
        try:
            with connection.cursor() as cursor:
                cursor.execute(_STATUS_SQL)
                in_recovery, lsn, lag = cursor.fetchone()
        except DatabaseError as error:
            self.failed(error)
            return
        if not in_recovery or lsn is None:  # promoted, or not a replica at all
            self.failed("it is not replaying a primary's WAL")
            return
        self.lsn, self.lag, self.checked = int(lsn), float(lag), time.monotonic()
        if self.lag > settings.REPLICA_MAX_LAG_SECONDS:
            logger.warning("Replica %s lags %.1f s: reading the primary", self.alias, self.lag)

    def failed(self, reason) -> None:
        if time.monotonic() >= self.down_until:
            logger.warning("Replica %s is down (%s): reading the primary", self.alias, reason)
        self.down_until = time.monotonic() + RETRY_SECONDS
        self.checked = float("-inf")
        connections[self.alias].close()


_replicas: dict[str, _Replica] = {}


def _replica(alias: str) -> _Replica:
    found = _replicas.get(alias)
    if found is None:
        found = _replicas[alias] = _Replica(alias)
    return found


def read_alias() -> str:
    """Where this read goes: a replica that serves what the request requires, else the primary."""
    state = _current.get()
    if state is None or state.pinned or connections[PRIMARY].in_atomic_block:
        return PRIMARY
    if state.required is None:
        _look_up(state)
    aliases = settings.DATABASE_REPLICAS
    for alias in random.sample(aliases, len(aliases)) if len(aliases) > 1 else aliases:
        if _replica(alias).serves(state.required):
            state.used.add(alias)
            return alias
    state.pinned = True  # none has caught up: the rest of this request reads the primary too
    return PRIMARY


def write_alias() -> str:
    state = _current.get()
    if state is not None:
        state.pinned = state.wrote = True
    return PRIMARY


# --- recording writes --------------------------------------------------------------------------


def record_commit() -> None:
    """After a commit, before its cache versions move: raise the shared and writer's positions."""
    state = _current.get()
    if not settings.DATABASE_REPLICAS or (state is not None and not state.wrote):
        return  # no replicas, or recorded since this request last wrote
    try:
        with connections[PRIMARY].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
            lsn = int(cursor.fetchone()[0])
        redis = _redis().pipeline(transaction=False)
        redis.eval(_RAISE_TO, 1, _key(LSN_KEY), lsn, LSN_SECONDS)
        if state is not None:
            # Kept well past the lag at which a replica is skipped anyway.
            keep = max(60, int(10 * settings.REPLICA_MAX_LAG_SECONDS))
            redis.set(_key(state.writer_key), lsn, ex=keep)
        redis.execute()
    except Exception:
        # Readers could then be sent to a replica behind this write: say so loudly.
        logger.exception("Could not record the WAL position of a commit")
        return
    if state is not None:
        state.wrote = False


class ReplicaRouter:
    """Django's router: see the module docstring. Without replicas everything is the primary."""

    def db_for_read(self, model, **hints):
        return read_alias() if settings.DATABASE_REPLICAS else PRIMARY

    def db_for_write(self, model, **hints):
        return write_alias() if settings.DATABASE_REPLICAS else PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database: a replica holds the primary's rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


class ReplicaMiddleware:
    """Each request's reading rules, its position recorded after it writes, and the replica retry.

    Last in MIDDLEWARE, so that its process_exception sees a replica's failure first.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = None

    def __call__(self, request):
        if not settings.DATABASE_REPLICAS:
            return self.get_response(request)
        if self.admin_prefix is None:
            self.admin_prefix = reverse("admin:index")
        pinned = request.method not in SAFE_METHODS or request.path.startswith(self.admin_prefix)
        state = _Request(address=BaseThrottle().get_ident(request), pinned=pinned)
        token = _current.set(state)
        try:
            response = self.get_response(request)
            if state.wrote:
                record_commit()  # before the response goes out: the next read must see it
            return response
        finally:
            _current.reset(token)

    def process_exception(self, request, exception):
        """A safe request whose replica failed under it runs again, on the primary."""
        state = _current.get()
        if state is None or request.method not in SAFE_METHODS:
            return None
        failed = [alias for alias in state.used if connections[alias].errors_occurred]
        if not failed or not isinstance(exception, DatabaseError):
            return None
        for alias in failed:
            _replica(alias).failed(exception)
        state.used.clear()
        state.pinned = True
        match = request.resolver_match
        return match.func(request, *match.args, **match.kwargs)
