"""The parts every post read is made of: each post's cached entry, and the caller's likes
and blocks.

A post's entry (its `Post` shape, vote count, hidden state) is cached under the post's own
version, so an edit or a vote retires that one entry, never a page. The caller's `voted` flags
come from the set of posts they liked, cached under their own votes' version; the members they
are blocked with, under their blocks' version. Without a cache each part is one query, compiled
once per process (core.db.CompiledValues). Lists (posts.selectors) and the feed
(social.selectors) only choose which ids to show.
"""

from django.db import router
from django.db.models import Exists, OuterRef, Q, Subquery

from accounts.models import Block, User
from core import cache
from core.db import CompiledValues

from .models import Post, Vote
from .serializers import post_entry, post_out

ENTRY_FIELDS = (
    "id",
    "title",
    "content",
    "published",
    "created_at",
    "owner_id",
    "owner_email",
    "owner_created_at",
    "hidden_at",
    "hidden_reason",
    "vote_count",
    "comment_count",
)

# A member who liked more posts than this is not kept whole in memory: their flags come from
# a query per page instead.
LIKES_CACHED_MAX = 5_000
TOO_MANY_LIKES = "too many"


def _liked_by(user_id):
    return Exists(Vote.objects.filter(post=OuterRef("pk"), user_id=user_id))


def _blocked_with(user_id):
    """Whether the post's owner and `user_id` blocked each other, either way."""
    return Exists(
        Block.objects.filter(
            Q(blocker_id=user_id, blocked_id=OuterRef("owner_id"))
            | Q(blocker_id=OuterRef("owner_id"), blocked_id=user_id)
        )
    )


def entry_rows(posts, *, liked_by: int | None = None, blocks: bool = False):
    """`posts` as the `.values()` rows post_entry() reads (with `liked` for `liked_by`, and
    `blocked` too when `blocks`).

    The owner's columns come by a lookup per row (an index probe), never a join: a join lets
    the planner hash the whole members table for a page of ten posts.
    """
    owner = User.objects.filter(pk=OuterRef("owner_id")).order_by()  # no sort per row
    posts = posts.annotate(
        owner_email=Subquery(owner.values("email")),
        owner_created_at=Subquery(owner.values("created_at")),
    )
    if liked_by is None:
        return posts.values(*ENTRY_FIELDS)
    if not blocks:
        return posts.annotate(liked=_liked_by(liked_by)).values(*ENTRY_FIELDS, "liked")
    flags = {"liked": _liked_by(liked_by), "blocked": _blocked_with(liked_by)}
    return posts.annotate(**flags).values(*ENTRY_FIELDS, *flags)


_ENTRIES = CompiledValues(lambda ids: entry_rows(Post.objects.filter(pk__in=ids)))
# Without cached likes the caller's flags come with the posts: liked, and blocked (a post by
# id needs it; a list has left those posts out already).
_ENTRIES_AND_LIKED = CompiledValues(
    lambda ids, user_id: entry_rows(Post.objects.filter(pk__in=ids), liked_by=user_id, blocks=True)
)


class Rows:
    """What the database said in this request: {post id: (entry, liked by the caller)}.

    The caller's likes, when they are cached already (`likes`), make the query simpler: it
    then does not ask, for each post, whether they liked it.
    """

    def __init__(self, request, user):
        self.user = user
        self.likes = cached_likes(request, user)
        self.found = {}
        self.asked = set()

    def fetch(self, posts) -> list[int]:
        """One query for the posts of a queryset: their entries; their ids, in order."""
        liked_by = self.user.pk if self.likes is None else None
        return self._found(entry_rows(posts, liked_by=liked_by), asked=None)

    def fetch_ids(self, ids: list[int]) -> list[int]:
        """One query for these posts, some of which may no longer exist (compiled once)."""
        using = router.db_for_read(Post)
        if self.likes is None:
            rows = _ENTRIES_AND_LIKED(ids, self.user.pk, using=using)
        else:
            rows = _ENTRIES(ids, using=using)
        return self._found(rows, asked=ids)

    def found_rows(self, rows) -> list[int]:
        """A page's rows from a query of its own (entries, and likes unless they are cached)."""
        return self._found(rows, asked=None)

    def _found(self, rows, *, asked) -> list[int]:
        fetched = []
        for row in rows:
            self.found[row["id"]] = (post_entry(row), row.get("liked"), row.get("blocked"))
            fetched.append(row["id"])
        self.asked.update(fetched if asked is None else asked)
        return fetched

    def fetched(self, ids) -> bool:
        """Whether a query of this request asked about all of `ids`."""
        return self.asked.issuperset(ids)

    def liked(self, ids) -> set[int] | None:
        """The caller's likes among `ids`: from their cached likes, else from this request's
        query if it asked about them all and said, else None."""
        if self.likes is not None:
            return self.likes.intersection(ids)
        if not self.fetched(ids):
            return None
        return {post_id for post_id in ids if post_id in self.found and self.found[post_id][1]}

    def blocked_owners(self, ids) -> frozenset | None:
        """The owners of `ids` the caller is blocked with, if this request's query said."""
        if not self.fetched(ids):
            return None
        found = [self.found[post_id] for post_id in ids if post_id in self.found]
        if any(blocked is None for _, _, blocked in found):
            return None
        return frozenset(entry["post"]["owner_id"] for entry, _, blocked in found if blocked)


def posts_out(*, request, user, ids: list[int], rows: "Rows | None" = None) -> list[dict]:
    """These posts, in order, as `PostOut` for `user` (one the caller may see, by the caller's
    query): cached entries and likes, else one query for the posts and one for the likes."""
    rows = rows or Rows(request, user)
    found = post_entries(request, ids, rows)
    liked = liked_among(request, user, ids, rows)
    page = [found[post_id] for post_id in ids if found[post_id] is not None]
    return [post_out(entry, voted=entry["id"] in liked) for entry in page]


def blocked_key(member_id: int) -> str:
    return f"blocks:{member_id}"


def blocked_members(request, user) -> frozenset:
    """The members the caller blocked or was blocked by (none for staff: see visible_to)."""
    if not user.is_authenticated or user.is_staff:
        return frozenset()
    return cache.read_through(
        request,
        blocked_key(user.pk),
        versions_of=(f"blocks-of:{user.pk}",),
        compute=lambda: frozenset(Block.objects.hidden_ids(user.pk)),
    )


def post_entry_keys(ids: list[int]) -> dict[str, tuple[str, ...]]:
    """The cache entries of these posts: {key: its version names}."""
    return {f"post:{post_id}": (f"post:{post_id}", "users") for post_id in ids}


def post_entries(request, ids: list[int], rows: Rows) -> dict[int, dict | None]:
    """{id: entry} of these posts (None: no such post): cached, else one query for them all."""
    keys = post_entry_keys(ids)
    post_ids = dict(zip(keys, ids, strict=True))

    def compute_missing(missing):
        if not rows.fetched(ids):  # this request's query did not bring them already
            rows.fetch_ids(ids)
        return {key: rows.found[post_ids[key]][0] for key in missing if post_ids[key] in rows.found}

    entries = cache.read_many(request, keys, compute_missing=compute_missing)
    return {post_id: entries[key] for key, post_id in post_ids.items()}


def cached_likes(request, user) -> frozenset | None:
    """The posts the caller liked, if the cache holds them (read with the token's user)."""
    if not user.is_authenticated:
        return frozenset()
    key = f"likes:{user.pk}"
    likes = cache.get_many(request, {key: (f"votes-of:{user.pk}",)}).get(key)
    return None if likes is None or likes == TOO_MANY_LIKES else likes


def liked_among(request, user, ids: list[int], rows: Rows, *, keep=True) -> set[int]:
    """Which of `ids` the caller liked.

    From their cached likes, or this request's query; else from this page's cached flags; else
    from one query for all their likes, kept for their next requests (or, past
    LIKES_CACHED_MAX, for this page's). A page's flags from a query are kept for the page when
    `keep`: the same page again then needs no query.
    """
    flags = rows.liked(ids)
    if flags is not None or not ids:
        if rows.likes is None and keep and ids:
            cache.put_many(
                request, {_page_likes_key(user, ids): (_votes_of(user), frozenset(flags))}
            )
        return flags or set()
    page_key = _page_likes_key(user, ids)
    if keep:
        found = cache.get_many(request, {page_key: _votes_of(user)})
        if page_key in found:
            return found[page_key]
    likes_key = f"likes:{user.pk}"
    if cache.get_many(request, {likes_key: _votes_of(user)}).get(likes_key) != TOO_MANY_LIKES:
        likes = _likes(user)
        cache.put_many(request, {likes_key: (_votes_of(user), likes)})
        if likes != TOO_MANY_LIKES:
            return likes.intersection(ids)
    flags = set(Vote.objects.filter(user=user, post_id__in=ids).values_list("post_id", flat=True))
    if keep:
        cache.put_many(request, {page_key: (_votes_of(user), frozenset(flags))})
    return flags


def _votes_of(user) -> tuple[str]:
    return (f"votes-of:{user.pk}",)


def _page_likes_key(user, ids) -> str:
    return f"liked:{user.pk}:{cache.digest(','.join(map(str, ids)))}"


def _likes(user):
    """Every post `user` liked, or TOO_MANY_LIKES past LIKES_CACHED_MAX."""
    liked = [row["post_id"] for row in _LIKES(user.pk, using=router.db_for_read(Vote))]
    return TOO_MANY_LIKES if len(liked) > LIKES_CACHED_MAX else frozenset(liked)


_LIKES = CompiledValues(
    lambda user_id: (
        Vote.objects.filter(user_id=user_id).order_by().values("post_id")[: LIKES_CACHED_MAX + 1]
    )
)
