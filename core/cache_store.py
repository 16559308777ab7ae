"""Where core.cache keeps versions and entries: Redis through one pipelined connection per
process and thread, or any other Django cache through its own API (local memory in development
and tests). Versions and the replicas' WAL positions are plain integers; entries are pickled.
Each process also keeps entries in a small LRU of its own."""

import os
import pickle
import threading
from collections import OrderedDict

from django.core.cache import caches

# The number moves when an entry's shape changes: a new release never reads an older one's.
ENTRY_PREFIX = "cache:entry:3:"


class _RedisStore:
    """Commands sent together on a connection of django-redis's pool: one round trip a batch.

    Through Django's cache API each read and each counter is a round trip of its own (and
    django-redis counts with a Lua script); through a redis-py pipeline each batch also pays
    the pool's checks, about as much again. So each process (and thread) keeps one connection
    of the pool's kind for these batches, and drops it on any error. Versions are kept as plain
    integers, entries pickled.
    """

    _local = threading.local()

    def __init__(self, backend):
        self.backend = backend
        self.pool = backend.client.get_client(write=True).connection_pool

    def key(self, key: str) -> str:
        return self.backend.make_key(key)

    def _run(self, commands: list[tuple]) -> list:
        local = self._local
        if getattr(local, "owner", None) != (os.getpid(), id(self.pool)):
            local.connection = self.pool.make_connection()  # never shared after a fork
            local.owner = (os.getpid(), id(self.pool))
        connection = local.connection
        try:
            connection.send_packed_command(connection.pack_commands(commands))
            return [connection.read_response() for _ in commands]
        except BaseException:
            connection.disconnect()  # its replies may be half read: start again next time
            raise

    def batch(self, counters: dict[str, int], keys: list[str]) -> tuple[dict, dict]:
        commands = []
        for key in counters:
            commands += [("INCR", self.key(key)), ("EXPIRE", self.key(key), counters[key], "NX")]
        if keys:
            commands.append(("MGET", *(self.key(key) for key in keys)))
        results = self._run(commands)
        counts = dict(zip(counters, results[0 : 2 * len(counters) : 2], strict=True))
        found = {}
        for key, raw in zip(keys, results[-1] if keys else (), strict=True):
            if raw is not None:
                found[key] = self._decode(key, raw)
        return counts, found

    @staticmethod
    def _decode(key: str, raw: bytes):
        # Entries are pickled; versions and the replicas' WAL positions are plain integers.
        return pickle.loads(raw) if key.startswith(ENTRY_PREFIX) else int(raw)

    @staticmethod
    def _encode(key: str, value) -> bytes:
        return pickle.dumps(value, 5) if key.startswith(ENTRY_PREFIX) else str(value).encode()

    def add_many(self, values: dict, seconds: int) -> None:
        self._run(
            [
                ("SET", self.key(key), self._encode(key, value), "EX", seconds, "NX")
                for key, value in values.items()
            ]
        )

    def set_many(self, values: dict, seconds: int) -> None:
        self._run(
            [
                ("SET", self.key(key), self._encode(key, value), "EX", seconds)
                for key, value in values.items()
            ]
        )


class _DjangoStore:
    """Any other Django cache (local memory in development and tests): its own API."""

    def __init__(self, backend):
        self.backend = backend

    def batch(self, counters: dict[str, int], keys: list[str]) -> tuple[dict, dict]:
        counts = {key: self._count(key, seconds) for key, seconds in counters.items()}
        return counts, self.backend.get_many(keys) if keys else {}

    def _count(self, key, seconds) -> int:
        try:
            return self.backend.incr(key)
        except ValueError:  # the window's first request
            if self.backend.add(key, 1, seconds):
                return 1
            return self.backend.incr(key)

    def add_many(self, values: dict, seconds: int) -> None:
        for key, value in values.items():
            self.backend.add(key, value, seconds)

    def set_many(self, values: dict, seconds: int) -> None:
        self.backend.set_many(values, seconds)


def store():
    """The store of the default cache: Redis (django-redis) pipelined, else Django's API."""
    backend = caches["default"]
    if hasattr(getattr(backend, "client", None), "get_client"):  # django-redis
        return _RedisStore(backend)
    return _DjangoStore(backend)


class LRU:
    """A small least-recently-used dict shared by the threads of one process."""

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
