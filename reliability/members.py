"""Many members at once, each with its own token, each reading back what it has just written.

The load of the scale-out checks (scale_out.py), sent through nginx. Every client owns a few
members, so each member's requests go one at a time and in order. For one of them at a time it
either reads (the posts list, a post, a profile, the feed, notifications) or writes (a new post,
an edit or a delete of one of its own, a vote toggled in its pool, a comment on its own post)
and then at once reads that write back: the post, a search of the list, its profile's count,
its feed, the thread. A read that does not show the member's own acknowledged write is a
violation. Every request is a Sample, as in load.py, so every failure is counted exactly.
Each POST (a post, a vote, a comment) is a logical write under its own Idempotency-Key, retried
under it until an answer settles it (Load.write, keyed.py), as load.py's are; PUT and DELETE are
idempotent by themselves and sent once.
"""

from __future__ import annotations

import random
import urllib.parse
from dataclasses import dataclass, field

from bench.probe import BENCH_TITLE_PREFIX, read_lines
from reliability.common import TITLE_PREFIX
from reliability.keyed import Write, retryable
from reliability.load import Endpoint, Load

ENDPOINTS = (
    Endpoint("create", "POST /posts/", 8),
    Endpoint("edit", "PUT /posts/{own}", 6),
    Endpoint("delete", "DELETE /posts/{own}", 3),
    Endpoint("vote", "POST /vote/ (its pool)", 12),
    Endpoint("comment", "POST .../comments", 4),
    Endpoint("own_post", "GET /posts/{id} back", 0),
    Endpoint("own_list", "GET ?search= back", 0),
    Endpoint("own_profile", "GET /users/me back", 0),
    Endpoint("own_feed", "GET /feed back", 0),
    Endpoint("own_thread", "GET .../comments back", 0),
    Endpoint("list", "GET /posts/?limit=10", 20),
    Endpoint("post", "GET /posts/{id}", 20),
    Endpoint("user", "GET /users/{id}", 12),
    Endpoint("feed", "GET /feed?limit=20", 8),
    Endpoint("notifications", "GET /notifications", 7),
)
METHOD = {e.key: e.label.split()[0] for e in ENDPOINTS}
# What a member does next: a write (then its read-back) or a plain read, by these weights.
ACTIONS = [e for e in ENDPOINTS if e.weight]
CONTENT = "Written under load by reliability/scale_out.py; deleted when the run ends."
# The read-backs of a new post, in turn.
CREATE_READS = ("own_post", "own_list", "own_profile", "own_feed")


@dataclass
class Member:
    """What one member wrote and had acknowledged: what its reads must show. None: unknown
    (its request got no answer, so either outcome is right until a read shows which)."""

    id: int
    headers: dict
    pool: list[int]
    posts: dict[int, str | None] = field(default_factory=dict)  # own new posts: id -> title
    votes: dict[int, bool | None] = field(default_factory=dict)  # pool post -> voted
    posts_count: int | None = None  # what GET /users/me must say; None until read once
    made: int = 0
    turn: int = 0


@dataclass
class Check:
    """One read-back: when it ended (s into the load), what it read, and what it showed."""

    at: float
    kind: str
    member: int
    outcome: str  # "ok", "violation", "failed" (no answer or a 5xx), "unsure" (nothing to compare)
    detail: str = ""


class MemberLoad(Load):
    """Load's clients, session and clock; each client plays its own members (see above)."""

    def __init__(self, port: int, members: list[dict], info: dict, run_dir, args, tag: str):
        super().__init__(port, "", info, run_dir, args, tag)  # every request carries its token
        self.public_ids = read_lines(run_dir / "public_post_ids.txt")
        self.all_user_ids = read_lines(run_dir / "all_user_ids.txt")
        self.members = [
            Member(m["id"], {"Authorization": f"Bearer {m['token']}"}, m["pool"]) for m in members
        ]
        self.checks: list[Check] = []
        self.created: dict[int, int] = {}  # post id -> member, every acknowledged create
        self.deleted: set[int] = set()
        self.comments: dict[int, int] = {}  # comment id -> its post
        self.deletes_found_gone = 0  # DELETE answered 404: a retry whose first attempt did it
        # 4xx answers the load expects: a deleted post read back, a vote or DELETE whose
        # earlier attempt got no answer but happened.
        self.expected_4xx = 0
        self.vote_contradictions: list[str] = []
        # A retried toggle that ran again where its first try had had its effect.
        self.vote_duplicates = 0

    async def _client(self, session, index: int, seconds: float) -> None:
        rng = random.Random(f"{self.seed}-{index}")
        mine = self.members[index :: self.connections]
        weights = [e.weight for e in ACTIONS]
        turn = 0
        while mine and self.now() < seconds and not self._stop.is_set():
            member = mine[turn % len(mine)]
            turn += 1
            action = rng.choices(ACTIONS, weights)[0].key
            if action in ("edit", "comment") and not member.posts:
                action = "create"
            if action == "delete" and len(member.posts) < 2:
                action = "create"
            if METHOD[action] == "GET":
                await self._read(session, member, action, rng)
            else:
                await getattr(self, f"_{action}")(session, member, rng)

    # --- plain reads ----------------------------------------------------------------------

    async def _read(self, session, m: Member, key: str, rng) -> None:
        path = {
            "list": "/posts/?limit=10",
            "post": f"/posts/{rng.choice(self.public_ids)}",
            "user": f"/users/{rng.choice(self.all_user_ids)}",
            "feed": "/feed?limit=20",
            "notifications": "/notifications?limit=20",
        }[key]
        await self.send(session, key, "GET", path, headers=m.headers)

    # --- writes, each read back at once ---------------------------------------------------

    async def _create(self, session, m: Member, rng) -> None:
        m.made += 1
        title = f"{TITLE_PREFIX}{self.tag} m{m.id}-n{m.made}:"
        body = {"title": title, "content": CONTENT, "published": True}
        write = Write("create", self.now(), mark=title)
        sample, payload = await self.write(session, write, "/posts/", body, m.headers)
        post_id = payload.get("id") if isinstance(payload, dict) else None
        if sample.status != 201 or not isinstance(post_id, int):
            if retryable(sample):
                m.posts_count = None  # it may have been made
            return
        m.posts[post_id] = title
        self.created[post_id] = m.id
        if m.posts_count is not None:
            m.posts_count += 1
        kind = CREATE_READS[m.turn % len(CREATE_READS)]
        m.turn += 1
        if kind == "own_post":
            await self._post_back(session, m, post_id)
        elif kind == "own_list":
            search = urllib.parse.quote(title.removeprefix(TITLE_PREFIX))
            await self._list_back(
                session, m, "own_list", f"/posts/?limit=10&search={search}", post_id
            )
        elif kind == "own_feed":
            await self._list_back(session, m, "own_feed", "/feed?limit=20", post_id)
        else:
            await self._profile_back(session, m)

    async def _edit(self, session, m: Member, rng) -> None:
        post_id = rng.choice(list(m.posts))
        m.made += 1
        title = f"{TITLE_PREFIX}{self.tag} m{m.id}-n{m.made}: edited"
        body = {"title": title, "content": CONTENT, "published": True}
        sample, _ = await self.send(session, "edit", "PUT", f"/posts/{post_id}", body, m.headers)
        if sample.status == 200:
            m.posts[post_id] = title
            await self._post_back(session, m, post_id)
        elif sample.failed:
            m.posts[post_id] = None

    async def _delete(self, session, m: Member, rng) -> None:
        post_id = rng.choice(list(m.posts))
        sample, _ = await self.send(
            session, "delete", "DELETE", f"/posts/{post_id}", None, m.headers
        )
        if sample.status in (204, 404):
            self.deletes_found_gone += sample.status == 404
            self.expected_4xx += sample.status == 404
            del m.posts[post_id]
            self.deleted.add(post_id)
            if m.posts_count is not None:
                m.posts_count -= 1
            if m.turn % 2:
                await self._post_back(session, m, post_id, gone=True)
            else:
                await self._profile_back(session, m)
            m.turn += 1
        elif sample.failed:
            del m.posts[post_id]  # gone or not: no longer followed
            m.posts_count = None

    async def _vote(self, session, m: Member, rng) -> None:
        post_id = m.pool[m.turn % len(m.pool)]
        m.turn += 1
        before = m.votes.get(post_id, False)
        direction = 0 if before else 1
        body = {"post_id": post_id, "dir": direction}
        write = Write("vote", self.now())
        sample, payload = await self.write(session, write, "/vote/", body, m.headers)
        detail = str(payload.get("detail", "")) if isinstance(payload, dict) else ""
        # Sent more than once and not answered by a replay: an answer that contradicts the
        # known state means the toggle ran twice under one key, not a lost write (load.py's).
        retried = write.tries > 1 and not sample.replayed
        if sample.status == 201:
            m.votes[post_id] = direction == 1
            await self._post_back(session, m, post_id, voted=direction == 1)
        elif retryable(sample):  # no answer, a 5xx or "still running" after the last retry
            m.votes[post_id] = None
        elif sample.status == 409 and direction == 1:
            self.expected_4xx += before is None
            if before is False:
                self._contradicted(retried, f"member {m.id} post {post_id}: 409 on a vote")
            m.votes[post_id] = True
        elif sample.status == 404 and direction == 0 and "vote" in detail.lower():
            self.expected_4xx += before is None
            if before is True:
                self._contradicted(retried, f"member {m.id} post {post_id}: vote gone")
            m.votes[post_id] = False

    def _contradicted(self, retried: bool, what: str) -> None:
        if retried:
            self.vote_duplicates += 1
        else:
            self.vote_contradictions.append(what)

    async def _comment(self, session, m: Member, rng) -> None:
        post_id = rng.choice(list(m.posts))
        body = {"content": f"{BENCH_TITLE_PREFIX}comment by member {m.id} under load"}
        path = f"/posts/{post_id}/comments"
        write = Write("comment", self.now())
        sample, payload = await self.write(session, write, path, body, m.headers)
        comment_id = payload.get("id") if isinstance(payload, dict) else None
        if sample.status == 201 and isinstance(comment_id, int):
            self.comments[comment_id] = post_id
            await self._list_back(session, m, "own_thread", f"{path}?limit=100", comment_id)

    # --- read-backs -----------------------------------------------------------------------

    async def _post_back(self, session, m: Member, post_id: int, *, voted=None, gone=False):
        sample, payload = await self.send(
            session, "own_post", "GET", f"/posts/{post_id}", headers=m.headers
        )
        if sample.failed:
            return self._record(sample, m, "failed", f"GET /posts/{post_id}")
        if gone:
            ok = sample.status == 404
            self.expected_4xx += ok
            return self._record(sample, m, ok, f"post {post_id} deleted, read {sample.status}")
        if sample.status != 200 or not isinstance(payload, dict):
            return self._record(sample, m, False, f"post {post_id}: status {sample.status}")
        if voted is not None:
            seen = payload.get("voted")
            return self._record(
                sample, m, seen == voted, f"post {post_id} voted {seen}, not {voted}"
            )
        title = (payload.get("Post") or {}).get("title")
        wanted = m.posts.get(post_id)
        if wanted is None:
            m.posts[post_id] = title
            return self._record(sample, m, "unsure")
        return self._record(sample, m, title == wanted, f"post {post_id} title {title!r}")

    async def _list_back(self, session, m: Member, kind: str, path: str, item_id: int) -> None:
        sample, payload = await self.send(session, kind, "GET", path, headers=m.headers)
        if sample.failed:
            return self._record(sample, m, "failed", path)
        if sample.status != 200 or not isinstance(payload, list):
            return self._record(sample, m, False, f"{path}: status {sample.status}")
        ids = [(item.get("Post") or item).get("id") for item in payload if isinstance(item, dict)]
        if item_id in ids:
            return self._record(sample, m, True)
        if kind == "own_feed" and len(ids) == 20 and min(ids) > item_id:
            return self._record(sample, m, "unsure")  # twenty newer posts came in between
        self._record(sample, m, False, f"{path}: {item_id} not in {ids[:20]}")

    async def _profile_back(self, session, m: Member) -> None:
        sample, payload = await self.send(
            session, "own_profile", "GET", "/users/me", headers=m.headers
        )
        if sample.failed:
            return self._record(sample, m, "failed", "GET /users/me")
        seen = payload.get("posts_count") if isinstance(payload, dict) else None
        if sample.status != 200 or seen is None:
            return self._record(sample, m, False, f"/users/me: status {sample.status}")
        if m.posts_count is None:
            m.posts_count = seen
            return self._record(sample, m, "unsure")
        self._record(sample, m, seen == m.posts_count, f"posts_count {seen}, not {m.posts_count}")

    def _record(self, sample, m: Member, outcome, detail: str = "") -> None:
        if outcome is True or outcome is False:
            outcome = "ok" if outcome else "violation"
        self.checks.append(Check(sample.ended, sample.endpoint, m.id, outcome, detail))
