"""The load: an asyncio client sending mixed traffic as the demo account, counting every request.

Each request becomes a Sample (its status, or the socket error that took its place), so every
figure is an exact count. Each POST is a keyed Write (keyed.py), retried under its key until an
answer settles it; the VoteLedger keeps what the server acknowledged about each vote, and the
posts it acknowledged are kept by id and by title, for writes.py to look for in the database.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import LOOPBACK, HarnessError
from bench.probe import read_lines
from reliability.common import TITLE_PREFIX
from reliability.keyed import HEADER, REPLAYED, Write, is_running, retry_delay


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    weight: int


ENDPOINTS = (
    Endpoint("list", "GET /posts/?limit=10", 30),
    Endpoint("post", "GET /posts/{id}", 25),
    Endpoint("user", "GET /users/{id}", 15),
    Endpoint("vote", "POST /vote/ (toggle)", 20),
    Endpoint("create", "POST /posts/", 10),
)
SOCKET_ERRORS = ("connect", "read", "timeout", "other")
VOTE_POSTS_PER_CLIENT = 4


@dataclass
class Sample:
    """One request: when it started and ended (seconds into the load) and how it ended."""

    endpoint: str
    started: float
    ended: float
    status: int | None = None
    error: str | None = None  # one of SOCKET_ERRORS when no response came
    json_detail: bool = True  # for an error status: a JSON body with a "detail" key
    retry_after: bool = False
    retry_after_s: float | None = None  # Retry-After's seconds, when it has a number
    replayed: bool = False  # Idempotent-Replayed: true, the first answer to the key again
    running: bool = False  # 409: the key's first request is still running (retried)
    key: str | None = None  # a keyed write's Idempotency-Key (keyed.py): its Write

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def failed(self) -> bool:
        """No answer, or the server's own failure (5xx)."""
        return self.error is not None or (self.status is not None and self.status >= 500)


@dataclass
class VoteLedger:
    """What the server acknowledged about the demo account's vote on each post.

    Each post is toggled by one connection only, so its acknowledged operations are ordered:
    the last one says what the database must hold. A request that got no answer (or a 5xx)
    may or may not have happened, so the post is undetermined until the server next answers.
    """

    state: dict[int, bool | None] = field(default_factory=dict)
    votes_acked: int = 0
    unvotes_acked: int = 0
    # The server's answer contradicted an acknowledged state: a lost write seen at run time.
    contradictions: list[str] = field(default_factory=list)
    # A retried toggle that ran again where its first try had had its effect.
    duplicates: int = 0

    def next_dir(self, post_id: int) -> int:
        return 0 if self.state.get(post_id) else 1

    def answered(self, post_id: int, direction: int, sample, detail: str, retried=False) -> None:
        """Take the final answer of one logical toggle (a replay is its one effect).

        `retried`: sent more than once and not answered by a replay, so an answer that
        contradicts the known state means the toggle ran twice under one key, not a lost write.
        """
        status, running = sample.status, sample.running
        before = self.state.get(post_id)
        contradicted = self.contradictions.append if not retried else self._ran_twice
        if status is None or status >= 500 or running:
            self.state[post_id] = None
        elif status == 201:
            self.state[post_id] = direction == 1
            if direction == 1:
                self.votes_acked += 1
            else:
                self.unvotes_acked += 1
        elif status == 409 and direction == 1:  # already voted: the vote is there
            if before is False:
                contradicted(f"post {post_id}: acknowledged unvote undone (409)")
            self.state[post_id] = True
        elif status == 404 and direction == 0 and "vote" in detail.lower():
            if before is True:
                contradicted(f"post {post_id}: acknowledged vote gone (404)")
            self.state[post_id] = False
        # Any other answer (a 4xx) changed nothing.

    def _ran_twice(self, what: str) -> None:
        self.duplicates += 1


class Load:
    """`connections` concurrent clients sending the mixed traffic until told to stop.

    Each client keeps one request in flight at a time, on a fresh connection each time (the
    sync gunicorn workers close every connection after its response anyway), so every request
    is counted once: a status, or the socket error that took its place.
    """

    def __init__(self, port: int, token: str, info: dict, run_dir: Path, args, tag: str):
        self.base = f"http://{LOOPBACK}:{port}"
        self.token = token
        self.connections = args.connections
        self.timeout = args.timeout
        self.seed = args.seed
        self.tag = tag
        self.post_ids = read_lines(run_dir / "post_ids.txt")
        self.user_ids = read_lines(run_dir / "user_ids.txt")
        self.vote_ids = read_lines(run_dir / "vote_ids.txt")
        self.demo_user_id = info["demo_user_id"]
        for name in ("post_ids", "user_ids", "vote_ids"):
            if not getattr(self, name):
                raise HarnessError(f"no {name} to request: is the database seeded?")
        self.samples: list[Sample] = []
        self.posts_acked: list[int] = []
        self.writes: list[Write] = []  # every logical write (POST), each under its own key
        # A few posts per client, so each one is voted and unvoted again and again.
        self.vote_posts = {
            index: self.vote_ids[index :: self.connections][:VOTE_POSTS_PER_CLIENT]
            for index in range(self.connections)
        }
        # probe.py prepare chose posts the demo account has not voted on.
        self.ledger = VoteLedger(
            {post_id: False for posts in self.vote_posts.values() for post_id in posts}
        )
        self.t0 = 0.0
        self.seconds = 0.0
        self._stop = asyncio.Event()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def stop(self) -> None:
        """End the load now (from `during`), before its `seconds` are up."""
        self._stop.set()

    async def run(self, seconds: float, during: Callable | None = None) -> None:
        """Load for `seconds`; `during(load)` runs alongside (the fault), its errors raised."""
        import aiohttp

        connector = aiohttp.TCPConnector(limit=self.connections, force_close=True)
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        async with aiohttp.ClientSession(
            base_url=self.base, connector=connector, timeout=timeout, headers=headers
        ) as session:
            # aiohttp resends a GET once, silently, when the server drops the connection (as
            # aiohttp's own test client does, we turn that off): every failure must be seen.
            if not hasattr(session, "_retry_connection"):
                raise HarnessError("this aiohttp cannot turn its retries off: pin its version")
            session._retry_connection = False
            self.t0 = time.monotonic()
            clients = [
                asyncio.create_task(self._client(session, index, seconds))
                for index in range(self.connections)
            ]
            try:
                if during is not None:
                    await during(self)
                await asyncio.gather(*clients)
            finally:
                self._stop.set()
                for task in clients:
                    task.cancel()  # only when `during` failed: the clients end by themselves
                await asyncio.gather(*clients, return_exceptions=True)
            self.seconds = self.now()

    async def _client(self, session, index: int, seconds: float) -> None:
        rng = random.Random(f"{self.seed}-{index}")
        mine = self.vote_posts[index]
        weights = [e.weight for e in ENDPOINTS]
        sent = votes = 0
        while self.now() < seconds and not self._stop.is_set():
            endpoint = rng.choices(ENDPOINTS, weights)[0]
            if endpoint.key == "vote" and not mine:
                endpoint = ENDPOINTS[0]
            vote_post = mine[votes % len(mine)] if endpoint.key == "vote" else None
            await self._request(session, endpoint, rng, index, vote_post, sent)
            sent += 1
            votes += endpoint.key == "vote"

    async def _request(self, session, endpoint: Endpoint, rng, index, vote_post, sent) -> None:
        body = direction = None
        if endpoint.key == "list":
            method, path = "GET", "/posts/?limit=10"
        elif endpoint.key == "post":
            method, path = "GET", f"/posts/{rng.choice(self.post_ids)}"
        elif endpoint.key == "user":
            method, path = "GET", f"/users/{rng.choice(self.user_ids)}"
        elif endpoint.key == "vote":
            direction = self.ledger.next_dir(vote_post)
            method, path, body = "POST", "/vote/", {"post_id": vote_post, "dir": direction}
        else:
            method, path = "POST", "/posts/"
            title = f"{TITLE_PREFIX}{self.tag} c{index} n{sent}"
            body = {
                "title": title,
                "content": "Written under load by reliability/.",
                "published": True,
            }
        if method == "GET":
            await self.send(session, endpoint.key, method, path)
            return
        write = Write(endpoint.key, self.now())
        if endpoint.key == "create":
            body["title"] = write.mark = f"{body['title']} {write.key}"
        sample, payload = await self.write(session, write, path, body)
        if endpoint.key == "create" and sample.status == 201:
            if isinstance(payload, dict) and isinstance(payload.get("id"), int):
                self.posts_acked.append(payload["id"])
            else:
                sample.json_detail = False  # a 201 without the new post's id: counted as bad
        elif endpoint.key == "vote":
            detail = str(payload.get("detail", "")) if isinstance(payload, dict) else ""
            retried = write.tries > 1 and not sample.replayed
            self.ledger.answered(vote_post, direction, sample, detail, retried)

    async def write(self, session, write: Write, path: str, body: dict, headers=None):
        """POST under the write's key until an answer settles it: (the last sample, its JSON).

        Retried (same body, same key) after no answer, a 5xx or a 409 "still running", with a
        backoff of 0.1 s doubling to 2 s or Retry-After's seconds if longer, at most
        MAX_TRIES tries and only while the next one starts within --timeout of the first.
        """
        self.writes.append(write)
        headers = {**(headers or {}), HEADER: write.key}
        while True:
            write.tries += 1
            sample, payload = await self.send(session, write.endpoint, "POST", path, body, headers)
            sample.key = write.key
            write.status, write.replayed = sample.status, sample.replayed
            write.running = sample.running
            delay = retry_delay(sample, write, self.now() - write.started, self.timeout)
            if delay is None:
                return sample, payload
            await asyncio.sleep(delay)

    async def send(self, session, key: str, method: str, path: str, body=None, headers=None):
        """One request, kept as a Sample whatever happens to it: (the sample, its JSON or None)."""
        import aiohttp

        sample = Sample(key, self.now(), 0.0)
        payload = None
        try:
            async with session.request(method, path, json=body, headers=headers) as response:
                raw = await response.read()
                sample.status = response.status
                sample.retry_after = "Retry-After" in response.headers
                sample.retry_after_s = _seconds(response.headers.get("Retry-After"))
                sample.replayed = response.headers.get(REPLAYED) == "true"
            payload = _json(raw)
            sample.running = is_running(sample.status, payload)
        except aiohttp.ClientConnectorError:
            sample.error = "connect"
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientPayloadError):
            sample.error = "read"
        except TimeoutError:
            sample.error = "timeout"
        except aiohttp.ClientError:
            sample.error = "other"
        sample.ended = self.now()
        if sample.status is not None and sample.status >= 400:
            sample.json_detail = isinstance(payload, dict) and "detail" in payload
        self.samples.append(sample)
        return sample, payload


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: the backoff alone


def _json(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return None
