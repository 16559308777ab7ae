"""What the benchmark requests: the scenarios, in running order, and the members' request mix."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

DEEP_SKIPS = (0, 1_000, 10_000, 50_000)
MEMBERS = 200
WRITE_SHARE = 0.10


@dataclass(frozen=True)
class Request:
    """One kind of request in the members' mix; mixed.lua builds it from `key`."""

    key: str
    label: str
    weight: int  # percent of the reads, or of the writes
    write: bool = False


# Real traffic: many members, most of them reading the first pages. Reads and writes are each
# split by these weights; --write-share says how the two groups divide the requests.
MIX = (
    Request("list_first", "GET /posts/?limit=10", 30),
    Request("list_deep", "GET /posts/?limit=10&skip=10*k, k 1..99", 13),
    Request("post_detail", "GET /posts/{id}, any public post", 25),
    Request("user_detail", "GET /users/{id}, any user", 17),
    Request("comments", "GET /posts/{id}/comments?limit=20, a commented post", 10),
    Request("notifications", "GET /notifications?limit=20", 5),
    Request("vote", "POST /vote/, toggling its own pool", 60, write=True),
    Request("post_create", "POST /posts/", 20, write=True),
    Request("comment_create", "POST /posts/{id}/comments, any public post", 20, write=True),
)
LISTS = ("list_first", "list_deep")
# The home feed: the same members, each following 50 to 500 others (probe.py prepare), reading
# the feed's first page. Not in `mixed` (its figures compare with earlier runs).
FEED = Request("feed", "GET /feed?limit=20, first page", 100)
FOLLOWS_PER_MEMBER = (50, 500)


def mix_shares(write_share: float, keys: tuple[str, ...] | None = None) -> tuple:
    """((key, share of all requests), ...) of MIX, or of its (and FEED's) `keys` only; the
    shares sum to 1."""
    chosen = MIX if keys is None else [r for r in (*MIX, FEED) if r.key in keys]
    groups = {False: 1 - write_share, True: write_share}
    totals = {write: sum(r.weight for r in chosen if r.write == write) for write in groups}
    shares = [
        (r.key, groups[r.write] * r.weight / totals[r.write]) for r in chosen if totals[r.write]
    ]
    whole = sum(share for _, share in shares)
    return tuple((key, round(share / whole, 4)) for key, share in shares if share)


@dataclass(frozen=True)
class Scenario:
    """One wrk run: a lua script from bench/lua and what it requests."""

    key: str
    label: str
    script: str  # get.lua requests `path`; the others build their own requests
    path: str = "/"
    auth: bool = True
    ids: str | None = None  # id file (from probe.py prepare) the script rotates through
    writes: bool = False  # undo its writes afterwards (probe.py cleanup)
    mix: tuple = ()  # mixed.lua: ((request key, share), ...), each request as a random member


def scenarios(search: str, members: int = MEMBERS, write_share: float = WRITE_SHARE):
    """The scenarios in running order: the members' mix, reads, writes, then the slow login."""
    query = urllib.parse.urlencode({"search": search})
    return [
        Scenario(
            "mixed",
            f"mixed: {members} members, {write_share:.0%} writes",
            "mixed.lua",
            auth=False,
            writes=write_share > 0,
            mix=mix_shares(write_share),
        ),
        Scenario(
            "many_readers",
            f"many readers: {members} members, lists",
            "mixed.lua",
            auth=False,
            mix=mix_shares(0, LISTS),
        ),
        Scenario(
            "feed",
            f"feed: {members} members, following {FOLLOWS_PER_MEMBER[0]}-{FOLLOWS_PER_MEMBER[1]}",
            "mixed.lua",
            auth=False,
            mix=mix_shares(0, (FEED.key,)),
        ),
        Scenario(
            "feed_writes",
            f"feed with writes: {members} members, {write_share:.0%} writes",
            "mixed.lua",
            auth=False,
            writes=write_share > 0,
            mix=mix_shares(write_share, (FEED.key, *(r.key for r in MIX if r.write))),
        ),
        Scenario(
            "profiles",
            f"profiles: {members} members, any member's profile",
            "mixed.lua",
            auth=False,
            mix=mix_shares(0, ("user_detail",)),
        ),
        Scenario(
            "comments",
            f"comments: {members} members, a thread's first 20",
            "mixed.lua",
            auth=False,
            mix=mix_shares(0, ("comments",)),
        ),
        Scenario(
            "notifications",
            f"notifications: {members} members, their first 20",
            "mixed.lua",
            auth=False,
            mix=mix_shares(0, ("notifications",)),
        ),
        # The least an authenticated read costs: what the single-member scenarios below compare
        # with, besides the ceiling.
        Scenario("floor", FLOOR_LABEL, "get.lua", "/bench/floor"),
        Scenario("posts_limit10", "GET /posts/?limit=10", "get.lua", "/posts/?limit=10"),
        Scenario("posts_limit100", "GET /posts/?limit=100", "get.lua", "/posts/?limit=100"),
        Scenario("posts_search", f"GET /posts/?{query}", "get.lua", f"/posts/?{query}"),
        Scenario("post_detail", "GET /posts/{id}", "get_ids.lua", "/posts/{id}", ids="post_ids"),
        Scenario("user_detail", "GET /users/{id}", "get_ids.lua", "/users/{id}", ids="user_ids"),
        Scenario("vote", "POST /vote/ (toggle)", "vote.lua", ids="vote_ids", writes=True),
        Scenario("post_create", "POST /posts/", "create_post.lua", writes=True),
        Scenario("login", "POST /login (form)", "login.lua", auth=False, ids="login_emails"),
    ]


def by_key(key: str) -> Scenario:
    return next(s for s in scenarios("x") if s.key == key)


FLOOR_LABEL = "floor: API view, token, rate counters, constant body"
CEILING = Scenario(
    "ceiling", "ceiling: bare Django JSON view", "get.lua", "/bench/ceiling", auth=False
)
