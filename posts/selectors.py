"""The hot reads: posts as the API shows them, from the shared cache or a fixed few queries.

A list is put together from parts that change at different rates, each cached on its own
(core.cache), so a write retires only what it changed:

- the page's post ids: shared by every member who sees what everyone sees (no drafts or hidden
  posts of their own, not staff), per member otherwise; a new post retires them;
- each post's entry (its `Post` shape, vote count, hidden state), under the post's own version:
  an edit or a vote retires that one entry, never a page;
- the caller's `voted` flags: the set of posts they liked, under their own votes' version;
- `X-Total-Count`, from counters the database keeps (PostTotals, PostCounts), never a COUNT.

Without a cache, or on a miss, each part costs at most one query: a list is at most three with
the token's user, whatever the page size, and a post by id two.
"""

from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Subquery

from accounts.models import User
from core import cache

from .models import Post, PostTotals, Vote, can_see
from .serializers import post_entry, post_out

ENTRY_FIELDS = (
    "id",
    "title",
    "content",
    "published",
    "created_at",
    "owner_id",
    "owner__email",
    "owner__created_at",
    "hidden_at",
    "hidden_reason",
    "vote_count",
)
# A member who liked more posts than this is not kept whole in memory: their flags come from
# a query per page instead.
LIKES_CACHED_MAX = 5_000
TOO_MANY_LIKES = "too many"


@dataclass(frozen=True)
class PostCountsSeen:
    """The counters a caller's `X-Total-Count` and view of the list depend on."""

    total_public: int
    total_hidden: int
    own_hidden: int
    own_drafts: int

    def total_for(self, user) -> int:
        if user.is_staff:  # every published post, and their own drafts
            return self.total_public + self.total_hidden + self.own_drafts
        return self.total_public + self.own_hidden + self.own_drafts

    def sees_what_everyone_sees(self, user) -> bool:
        return not user.is_staff and not (self.own_hidden or self.own_drafts)


class _Rows:
    """What the database said in this request: {post id: (entry, liked by the caller)}."""

    def __init__(self, user):
        self.user = user
        self.found = {}
        self.asked = set()

    def fetch(self, posts, *, ids=None) -> list[int]:
        """One query: the posts' entries, and whether the caller liked each; their ids, in order.

        `ids`: the posts asked for by id, some of which may no longer exist.
        """
        liked = Exists(Vote.objects.filter(post=OuterRef("pk"), user_id=self.user.pk))
        fetched = []
        for row in posts.annotate(liked=liked).values(*ENTRY_FIELDS, "liked"):
            self.found[row["id"]] = (post_entry(row), row["liked"])
            fetched.append(row["id"])
        self.asked.update(fetched if ids is None else ids)
        return fetched

    def liked(self, ids) -> set[int] | None:
        """The caller's likes among `ids`, if a query of this request asked about them all."""
        if not self.asked.issuperset(ids):
            return None
        return {post_id for post_id in ids if post_id in self.found and self.found[post_id][1]}


def post_list(*, request, user, search: str, limit: int, offset: int) -> tuple[list[dict], int]:
    """One page of the posts `user` may see, newest first, as `PostOut`, and how many in all."""
    if search:
        # Counted per search (the trigram index finds the matches), in the caller's own scope:
        # their own counts need not be read first.
        scope, names = _member_scope(user)
        total = cache.read_through(
            request,
            f"posts:count:{scope}:{cache.digest(search)}",
            versions_of=names,
            compute=lambda: Post.objects.visible_to(user).search(search).count(),
        )
    else:
        counts = _counts_seen(request, user)
        total = counts.total_for(user)
        if counts.sees_what_everyone_sees(user):
            scope, names = "everyone", ("posts",)
        else:
            scope, names = _member_scope(user)
    if limit == 0 or offset >= total:
        return [], total

    rows = _Rows(user)

    def page_ids():
        visible = Post.objects.public() if scope == "everyone" else Post.objects.visible_to(user)
        ids = visible.search(search).newest_first().values("pk")[offset : offset + limit]
        return rows.fetch(Post.objects.filter(pk__in=Subquery(ids)).newest_first())

    ids = cache.read_through(
        request,
        f"posts:ids:{scope}:{cache.digest(search)}:{limit}:{offset}",
        versions_of=names,
        compute=page_ids,
    )
    entries = _entries(request, ids, rows)
    liked = _liked_among(request, user, ids, rows)
    page = [entries[post_id] for post_id in ids if entries[post_id] is not None]
    return [post_out(entry, voted=entry["id"] in liked) for entry in page], total


def post_detail(*, request, user, post_id: int) -> dict | None:
    """The post `post_id` as `PostOut` for `user`, or None when there is none they may see."""
    entry = _entries(request, [post_id], rows := _Rows(user))[post_id]
    if entry is None or not can_see(user, **entry["visibility"]):
        return None
    liked = _liked_among(request, user, [post_id], rows, keep=False)
    return post_out(entry, voted=post_id in liked)


def _member_scope(user) -> tuple[str, tuple[str, ...]]:
    """A cache scope of the caller's own: their id, and staff or not (staff see more)."""
    return f"{user.pk}:{int(user.is_staff)}", ("posts", f"posts-of:{user.pk}")


def _counts_seen(request, user) -> PostCountsSeen:
    """The totals and the caller's own counts: one query for both, each cached on its own."""
    row = {}

    def query() -> dict:
        if not row:
            totals = PostTotals.objects.filter(pk=PostTotals.ONLY)
            found = (
                User.objects.filter(pk=user.pk)
                .annotate(
                    total_public=Subquery(totals.values("public")),
                    total_hidden=Subquery(totals.values("hidden")),
                    own_hidden=F("post_counts__hidden"),
                    own_drafts=F("post_counts__drafts"),
                )
                .values("total_public", "total_hidden", "own_hidden", "own_drafts")
                .first()
            )
            row.update({name: value or 0 for name, value in (found or {}).items()})
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
    return PostCountsSeen(*totals, *own)


def _entries(request, ids: list[int], rows: _Rows) -> dict[int, dict | None]:
    """{id: entry} of these posts (None: no such post): cached, else one query for them all."""
    post_ids = {f"post:{post_id}": post_id for post_id in ids}

    def compute_missing(missing):
        if rows.liked(ids) is None:  # this request's query did not bring them already
            rows.fetch(Post.objects.filter(pk__in=ids), ids=ids)
        return {key: rows.found[post_ids[key]][0] for key in missing if post_ids[key] in rows.found}

    entries = cache.read_many(
        request, {key: (key, "users") for key in post_ids}, compute_missing=compute_missing
    )
    return {post_id: entries[key] for key, post_id in post_ids.items()}


def _liked_among(request, user, ids: list[int], rows: _Rows, *, keep=True) -> set[int]:
    """Which of `ids` the caller liked.

    From their cached likes; else from this page's cached flags; else from this request's query
    if one ran for these posts (the flags then kept for the page, when `keep`); else from one
    query for all their likes, kept for their next requests.
    """
    if not user.is_authenticated or not ids:
        return set()
    votes = (f"votes-of:{user.pk}",)
    likes_key = f"likes:{user.pk}"
    page_key = f"liked:{user.pk}:{cache.digest(','.join(map(str, ids)))}"
    found = cache.get_many(request, {likes_key: votes, page_key: votes})
    likes = found.get(likes_key)
    if likes is not None and likes != TOO_MANY_LIKES:
        return likes.intersection(ids)
    if page_key in found:
        return found[page_key]
    flags = rows.liked(ids)
    if flags is None and likes is None:
        likes = _likes(user)
        cache.put_many(request, {likes_key: (votes, likes)})
        if likes != TOO_MANY_LIKES:
            return likes.intersection(ids)
    if flags is None:  # too many likes to keep: ask about this page
        flags = set(
            Vote.objects.filter(user=user, post_id__in=ids).values_list("post_id", flat=True)
        )
    if keep:
        cache.put_many(request, {page_key: (votes, frozenset(flags))})
    return flags


def _likes(user):
    """Every post `user` liked, or TOO_MANY_LIKES past LIKES_CACHED_MAX."""
    liked = Vote.objects.filter(user=user).values_list("post_id", flat=True)
    liked = list(liked[: LIKES_CACHED_MAX + 1])
    return TOO_MANY_LIKES if len(liked) > LIKES_CACHED_MAX else frozenset(liked)
