"""The hot reads: posts as the API shows them, from the shared cache or a fixed few queries.

A list is put together from parts that change at different rates, each cached on its own
(core.cache), so a write retires only what it changed:

- everyone's NEWEST_KEPT newest public posts, one list shared by every member, retired by a new
  post; each member's own drafts and hidden posts are merged into it (`_Merged`), from a short
  list of their own, less the posts of members they blocked or were blocked by. Staff,
  searches and pages past the shared list page in the database, cached per member;
- each post's entry and the caller's `voted` flags (posts.entries): an edit or a vote retires
  that one entry or that member's likes, never a page;
- `X-Total-Count`, from counters the database keeps (PostTotals, PostCounts), never a COUNT.

Without a cache each part costs at most one query: a list is at most three with the token's
user, whatever the page size, and a post by id two. The queries a cache miss sends most are
compiled once per process (core.db.CompiledValues).
"""

from dataclasses import dataclass
from functools import cached_property

from django.db import router
from django.db.models import F, Subquery

from accounts.models import User, blocked_either_way
from core import cache
from core.db import CompiledValues, EpochMicroseconds, SubquerySum

from .entries import (
    Rows,
    blocked_key,
    blocked_members,
    entry_rows,
    liked_among,
    post_entries,
    post_entry_keys,
    posts_out,
)
from .models import Post, PostCounts, PostTotals, can_see
from .serializers import post_entry, post_out

# Everyone's newest posts kept as one shared list, deep enough for the pages most read; a
# member's own drafts and hidden posts are merged into it (up to OWN_KEPT of them).
NEWEST_KEPT = 1_000
NEWEST_KEY = "posts:newest"
OWN_KEPT = 200


@dataclass(frozen=True)
class PostCountsSeen:
    """The counters a caller's `X-Total-Count` and view of the list depend on."""

    total_public: int
    total_hidden: int
    own_hidden: int
    own_drafts: int
    blocked_public: int  # the public posts of members the caller blocked or was blocked by

    def total_for(self, user) -> int:
        if user.is_staff:  # every published post, and their own drafts
            return self.total_public + self.total_hidden + self.own_drafts
        return self.total_public - self.blocked_public + self.own_hidden + self.own_drafts


def post_list(*, request, user, search: str, limit: int, offset: int) -> tuple[list[dict], int]:
    """One page of the posts `user` may see, newest first, as `PostOut`, and how many in all."""
    rows = Rows(request, user)
    merged = None if search or user.is_staff or not cache.enabled() else _merged(request, user)
    if merged is not None and merged.covers(offset + limit):
        ids, total = merged.page(offset, limit), merged.total
    else:
        total = merged.total if merged is not None else None
        ids, total = _page_from_database(request, user, search, limit, offset, rows, total)
    return posts_out(request=request, user=user, ids=ids, rows=rows), total


@dataclass(frozen=True)
class _Merged:
    """A member's list: everyone's newest posts merged with their own private ones, less the
    posts of members they blocked or were blocked by."""

    newest: dict  # NEWEST_KEY's entry; sort keys are (microseconds since 1970, id)
    own: dict  # own_key()'s entry
    blocked: frozenset = frozenset()  # the members whose posts the caller does not see
    blocked_public: int = 0  # those members' public posts, all of them

    @property
    def total(self) -> int:
        own = self.own["hidden"] + self.own["drafts"]
        return self.newest["public"] - self.blocked_public + own

    @cached_property
    def public_keys(self) -> list[tuple]:
        """The sort keys of everyone's newest posts that the caller may see."""
        if not self.blocked:
            return self.newest["keys"]
        owners = zip(self.newest["keys"], self.newest["owners"], strict=True)
        return [key for key, owner in owners if owner not in self.blocked]

    def covers(self, end: int) -> bool:
        """Whether the places before `end` are all known: everyone's list holds every public
        post, or enough of them."""
        if end > NEWEST_KEPT:
            return False
        return len(self.newest["keys"]) < NEWEST_KEPT or end <= len(self.public_keys)

    def page(self, offset: int, limit: int) -> list[int]:
        """The ids at `offset`..`offset + limit` of the merged list (within NEWEST_KEPT).

        Each private post's place is its rank among the member's private posts plus the number
        of newer public ones; the public posts fill the places between.
        """
        newest, end = self.public_keys, offset + limit
        placed = []  # (place, id) of the private posts before `end`, in order
        for rank, key in enumerate(self.own["private"]):
            place = rank + _count_newer(newest, key)
            if place >= end:
                break
            placed.append((place, key[1]))
        mine = sum(1 for place, _ in placed if place < offset)
        public = offset - mine  # the public posts before `offset`
        ids = []
        for place in range(offset, end):
            if mine < len(placed) and placed[mine][0] == place:
                ids.append(placed[mine][1])
                mine += 1
            elif public < len(newest):
                ids.append(newest[public][1])
                public += 1
            else:
                break
        return ids


def _count_newer(keys: list[tuple], key: tuple) -> int:
    """How many of `keys` (sorted newest first) sort before `key`."""
    low, high = 0, len(keys)
    while low < high:
        middle = (low + high) // 2
        if keys[middle] > key:
            low = middle + 1
        else:
            high = middle
    return low


def _merged(request, user) -> _Merged | None:
    """The caller's list from the two cached lists it is made of; None if theirs is too long."""
    own = cache.read_through(
        request, own_key(user.pk), versions_of=(f"posts-of:{user.pk}",), compute=lambda: _own(user)
    )
    if own["private"] is None:
        return None
    newest = cache.read_through(request, NEWEST_KEY, versions_of=("posts",), compute=_newest)
    blocked = blocked_members(request, user)
    if not blocked:
        return _Merged(newest, own)
    return _Merged(newest, own, blocked, _counts_seen(request, user).blocked_public)


def own_key(member_id: int) -> str:
    return f"posts:own:{member_id}"


def _newest() -> dict:
    """Everyone's NEWEST_KEPT newest posts ({"keys": [(sort key, id)], "owners": [id]}) and
    the totals."""
    rows = _NEWEST(using=router.db_for_read(Post))
    if rows:
        public, hidden = rows[0][3] or 0, rows[0][4] or 0
    else:  # nobody's posts to show: the totals on their own
        current = PostTotals.objects.current()
        public, hidden = current.public, current.hidden
    return {
        "keys": [(key, pk) for key, pk, *_ in rows],
        "owners": [owner_id for _, _, owner_id, *_ in rows],
        "public": public,
        "hidden": hidden,
    }


def _newest_query():
    totals = PostTotals.objects.filter(pk=PostTotals.ONLY)
    return (
        Post.objects.public()
        .newest_first()
        .annotate(
            key=EpochMicroseconds("created_at"),
            total_public=Subquery(totals.values("public")),
            total_hidden=Subquery(totals.values("hidden")),
        )
        .values_list("key", "id", "owner_id", "total_public", "total_hidden")[:NEWEST_KEPT]
    )


def _own(user) -> dict:
    """The member's own drafts and hidden posts ({"private": [(sort key, id)]}) and their counts.

    `private` is None past OWN_KEPT (and no counts): their list then comes from the database.
    """
    private = _OWN(user.pk, using=router.db_for_read(Post))
    if len(private) > OWN_KEPT:
        return {"private": None}
    drafts = sum(1 for _, _, published in private if not published)
    return {
        "private": [(key, pk) for key, pk, _ in private],
        "hidden": len(private) - drafts,
        "drafts": drafts,
    }


_NEWEST = CompiledValues(_newest_query, tuples=True)
_OWN = CompiledValues(
    lambda owner_id: (
        Post.objects.filter(owner_id=owner_id)
        .exclude(published=True, hidden_at__isnull=True)
        .newest_first()
        .annotate(key=EpochMicroseconds("created_at"))
        .values_list("key", "id", "published")[: OWN_KEPT + 1]
    ),
    tuples=True,
)


def _page_from_database(request, user, search, limit, offset, rows, total):
    """(ids, total) of a page cached per member: for staff, deep pages, searches, no cache."""
    # Whom the caller is blocked with, when the cache holds it: no subquery on blocks then.
    visible = Post.objects.visible_to(
        user, blocked=blocked_members(request, user) if cache.enabled() else None
    )
    if total is not None:
        pass  # known from the member's merged list
    elif search:
        # Counted per search (the trigram index finds the matches).
        total = cache.read_through(
            request,
            f"posts:count:{_member_scope(user)[0]}:{cache.digest(search)}",
            versions_of=_member_scope(user)[1],
            compute=lambda: visible.search(search).count(),
        )
    else:
        total = _counts_seen(request, user).total_for(user)
    if limit == 0 or offset >= total:
        return [], total

    def page_ids():
        if search:
            ids = visible.search(search).newest_first().values("pk")[offset : offset + limit]
            return rows.fetch(Post.objects.filter(pk__in=Subquery(ids)).newest_first())
        shape = {"staff": user.is_staff, "offset": offset, "limit": limit}
        liked = rows.likes is None
        return rows.found_rows(_PAGE(user.pk, using=visible.db, liked=liked, **shape))

    scope, names = _member_scope(user)
    key = f"posts:ids:{scope}:{cache.digest(search)}:{limit}:{offset}"
    return cache.read_through(request, key, versions_of=names, compute=page_ids), total


def plan_post_list(request, member_id: int, *, limit: int, offset: int) -> None:
    """Want the everyone's list and the page's posts, as this process last saw them, at once.

    (The member's own list is wanted with every member's request: posts/apps.py.)
    """
    cache.want(request, entries={NEWEST_KEY: ("posts",)})
    newest, own = cache.kept(NEWEST_KEY), cache.kept(own_key(member_id))
    blocked = cache.kept(blocked_key(member_id)) or frozenset()
    if newest is not None and own is not None and own["private"] is not None:
        page = _Merged(newest, own, blocked).page(offset, limit)
        cache.want(request, entries=post_entry_keys(page))


def post_detail(*, request, user, post_id: int) -> dict | None:
    """The post `post_id` as `PostOut` for `user`, or None when there is none they may see."""
    entry = post_entries(request, [post_id], rows := Rows(request, user))[post_id]
    if entry is None:
        return None
    blocked = rows.blocked_owners([post_id])
    if blocked is None:  # the post's entry was cached: so are the caller's blocks, likely
        blocked = blocked_members(request, user)
    if not can_see(user, **entry["visibility"], blocked=blocked):
        return None
    liked = liked_among(request, user, [post_id], rows, keep=False)
    return post_out(entry, voted=post_id in liked)


def post_detail_from_database(*, user, post_id: int) -> dict | None:
    """`post_detail` without the cache, as the caller's transaction sees the rows: what a write
    compares If-Match with (its row locked) and answers the new ETag of."""
    row = entry_rows(Post.objects.filter(pk=post_id), liked_by=user.pk, blocks=True).first()
    if row is None:
        return None
    entry = post_entry(row)
    blocked = frozenset({row["owner_id"]}) if row["blocked"] else frozenset()
    if not can_see(user, **entry["visibility"], blocked=blocked):
        return None
    return post_out(entry, voted=row["liked"])


def _member_scope(user) -> tuple[str, tuple[str, ...]]:
    """A cache scope of the caller's own: their id, and staff or not (staff see more)."""
    names = ("posts", f"posts-of:{user.pk}", f"blocks-of:{user.pk}")
    return f"{user.pk}:{int(user.is_staff)}", names


def _counts_seen(request, user) -> PostCountsSeen:
    """The totals and the caller's own counts: one query for both, each cached on its own."""
    row = {}

    def query() -> dict:
        if not row:
            found = _COUNTS(user.pk, using=router.db_for_read(User))
            row.update({name: value or 0 for name, value in (found[0] if found else {}).items()})
        return row

    totals = cache.read_through(
        request,
        "posts:totals",
        versions_of=("posts",),
        compute=lambda: (query()["total_public"], query()["total_hidden"]),
    )
    own = cache.read_through(
        request,
        f"posts:own-counts:{user.pk}",
        versions_of=(f"posts-of:{user.pk}",),
        compute=lambda: (query()["own_hidden"], query()["own_drafts"]),
    )
    if user.is_staff or (cache.enabled() and not blocked_members(request, user)):
        blocked_public = 0  # (without a cache the one query says, blocks or none)
    else:
        blocked_public = cache.read_through(
            request,
            f"posts:blocked-count:{user.pk}",
            versions_of=("posts", f"blocks-of:{user.pk}"),
            compute=lambda: query()["blocked_public"],
        )
    return PostCountsSeen(*totals, *own, blocked_public)


def _counts_query(user_id):
    totals = PostTotals.objects.filter(pk=PostTotals.ONLY)
    return (
        User.objects.filter(pk=user_id)
        .order_by()
        .annotate(
            total_public=Subquery(totals.values("public")),
            total_hidden=Subquery(totals.values("hidden")),
            own_hidden=F("post_counts__hidden"),
            own_drafts=F("post_counts__drafts"),
            blocked_public=SubquerySum(
                PostCounts.objects.filter(blocked_either_way(user_id, field="owner_id")),
                "public",
            ),
        )
        .values("total_public", "total_hidden", "own_hidden", "own_drafts", "blocked_public")
    )


@dataclass(frozen=True)
class _Viewer:
    """Who `visible_to` is asked about, in a query compiled for any member (see _PAGE)."""

    pk: int
    is_staff: bool
    is_authenticated: bool = True


def _page_query(user_id, *, staff, offset, limit, liked):
    """A member's page, in one query: its ids from the index first, then their rows."""
    visible = Post.objects.visible_to(_Viewer(user_id, staff))
    ids = visible.newest_first().values("pk")[offset : offset + limit]
    posts = Post.objects.filter(pk__in=Subquery(ids)).newest_first()
    return entry_rows(posts, liked_by=user_id if liked else None)


_COUNTS = CompiledValues(_counts_query)
_PAGE = CompiledValues(_page_query)
