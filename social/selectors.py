"""Profiles (a member with their kept counts, and how the caller stands with them) and the
home feed.

With the cache on, a profile is read from three cached parts, each retired by the writes that
change it: the member's own (their `User` fields and counts, shared by every reader), the
caller's follows both ways (one entry per caller, whichever profiles they open) and the
caller's blocks (read with their token). So a member browsing many profiles pays a query only
for a profile nobody opened since it changed. Without the cache, one query brings it all.
"""

from dataclasses import dataclass

from django.db import router
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce

from accounts.models import Block, User
from accounts.serializers import user_row_out
from core import cache
from core.db import CompiledValues
from posts.entries import blocked_members, post_entry_keys, posts_out
from posts.models import Post

from .models import Follow

# A member with more follows than this (both ways together) is not kept whole in memory: how
# they stand with another member then comes from a query per profile instead.
FOLLOWS_CACHED_MAX = 5_000
TOO_MANY_FOLLOWS = "too many"


def member_key(user_id: int) -> str:
    return f"profile:{user_id}"


def follows_key(viewer_id: int) -> str:
    return f"follows:{viewer_id}"


def profile_keys(user_id: int, viewer_id: int | None) -> dict[str, tuple[str, ...]]:
    """The cache entries a profile is read from besides the caller's blocks: {key: versions}."""
    keys = {member_key(user_id): (f"user:{user_id}", f"posts-of:{user_id}", f"graph-of:{user_id}")}
    if viewer_id is not None and viewer_id != user_id:
        keys[follows_key(viewer_id)] = (f"graph-of:{viewer_id}",)
    return keys


def profile(*, request, viewer, user_id: int) -> dict | None:
    """`user_id`'s `Profile` as `viewer` sees it (an anonymous viewer: no relation), or None."""
    if not cache.enabled():
        return profile_from_database(viewer=viewer, user_id=user_id)
    viewer_id = viewer.pk if viewer.is_authenticated else None
    found = cache.read_many(
        request,
        profile_keys(user_id, viewer_id),
        compute_missing=lambda missing: _profile_parts(missing, user_id, viewer_id),
    )
    member = found[member_key(user_id)]
    if member is None:
        return None
    if viewer_id is None or viewer_id == user_id:
        return profile_out(member, _own_relation(viewer_id), viewer=viewer)
    follows = found[follows_key(viewer_id)]
    if follows == TOO_MANY_FOLLOWS:
        return profile_from_database(viewer=viewer, user_id=user_id)
    relation = {
        "following": user_id in follows["following"],
        "followed_by": user_id in follows["followers"],
        "blocked": user_id in blocked_members(request, viewer),
    }
    return profile_out(member, relation, viewer=viewer)


def profile_from_database(*, viewer, user_id: int) -> dict | None:
    """`profile()` without the cache, in one query, as the caller's transaction sees the rows:
    also what a change of one's account compares If-Match with (their row locked) and answers
    the new ETag of."""
    viewer_id = viewer.pk if viewer.is_authenticated else None
    related = viewer_id is not None and viewer_id != user_id
    using = router.db_for_read(User)
    found = (
        _PROFILE_RELATED(user_id, viewer_id, using=using)
        if related
        else _PROFILE(user_id, using=using)
    )
    if not found:
        return None
    row = found[0]
    member = {name: row[name] for name in MEMBER_FIELDS}
    relation = (
        {name: row[name] for name in RELATION_FIELDS} if related else _own_relation(viewer_id)
    )
    return profile_out(member, relation, viewer=viewer)


def _own_relation(viewer_id: int | None) -> dict | None:
    """An anonymous reader has no relation; a member stands in none with themselves."""
    if viewer_id is None:
        return None
    return {"following": False, "followed_by": False, "blocked": False}


def _profile_parts(missing, user_id: int, viewer_id: int | None) -> dict:
    """The parts of a profile the cache lacked: the member's row, the caller's follows."""
    using = router.db_for_read(User)
    parts = {}
    if member_key(user_id) in missing:
        found = _PROFILE(user_id, using=using)
        parts[member_key(user_id)] = (
            {name: found[0][name] for name in MEMBER_FIELDS} if found else None
        )
    if viewer_id is not None and follows_key(viewer_id) in missing:
        parts[follows_key(viewer_id)] = _follows_of(viewer_id, using=using)
    return parts


def _follows_of(member_id: int, *, using) -> dict | str:
    """{"following": ids, "followers": ids} of a member, or TOO_MANY_FOLLOWS."""
    rows = list(
        Follow.objects.using(using)
        .filter(Q(follower_id=member_id) | Q(followee_id=member_id))
        .order_by()
        .values_list("follower_id", "followee_id")[: FOLLOWS_CACHED_MAX + 1]
    )
    if len(rows) > FOLLOWS_CACHED_MAX:
        return TOO_MANY_FOLLOWS
    return {
        "following": frozenset(followee for follower, followee in rows if follower == member_id),
        "followers": frozenset(follower for follower, followee in rows if followee == member_id),
    }


MEMBER_FIELDS = (
    "id",
    "email",
    "created_at",
    "public",
    "hidden",
    "drafts",
    "followers",
    "following_count",
)
RELATION_FIELDS = ("following", "followed_by", "blocked")


def _profile_query(user_id, viewer_id=None):
    members = User.objects.filter(pk=user_id).order_by()
    flags = {}
    if viewer_id is not None:
        flags = {
            "following": Exists(
                Follow.objects.filter(follower_id=viewer_id, followee=OuterRef("pk"))
            ),
            "followed_by": Exists(
                Follow.objects.filter(follower=OuterRef("pk"), followee_id=viewer_id)
            ),
            "blocked": Exists(
                Block.objects.filter(
                    Q(blocker_id=viewer_id, blocked=OuterRef("pk"))
                    | Q(blocker=OuterRef("pk"), blocked_id=viewer_id)
                )
            ),
        }
    return members.annotate(
        public=Coalesce(F("post_counts__public"), 0),
        hidden=Coalesce(F("post_counts__hidden"), 0),
        drafts=Coalesce(F("post_counts__drafts"), 0),
        followers=Coalesce(F("follow_counts__followers"), 0),
        following_count=Coalesce(F("follow_counts__following"), 0),
        **flags,
    ).values(*MEMBER_FIELDS, *flags)


_PROFILE = CompiledValues(_profile_query)
_PROFILE_RELATED = CompiledValues(_profile_query)


def profile_out(member: dict, relation: dict | None, *, viewer) -> dict:
    """The `Profile` shape: `User`, the counts the viewer may see, and the viewer's relation."""
    out = user_row_out(member)
    out["posts_count"] = _posts_seen(member, relation, viewer=viewer)
    out["followers_count"] = member["followers"]
    out["following_count"] = member["following_count"]
    if relation is not None:
        out["following"] = relation["following"]
        out["followed_by"] = relation["followed_by"]
    return out


def _posts_seen(member: dict, relation: dict | None, *, viewer) -> int:
    """How many of the member's posts `GET /posts/{id}` would show the viewer."""
    if viewer.is_authenticated and viewer.pk == member["id"]:
        return member["public"] + member["hidden"] + member["drafts"]
    if viewer.is_authenticated and viewer.is_staff:
        return member["public"] + member["hidden"]  # staff see hidden posts, blocks or not
    if relation is not None and relation["blocked"]:
        return 0
    return member["public"]


def follow_count(user_id: int, direction: str) -> int | None:
    """A member's kept count of followers or of following; None if there is no such member."""
    field = {"followers": "follow_counts__followers", "following": "follow_counts__following"}
    row = User.objects.filter(pk=user_id).order_by().values(n=Coalesce(F(field[direction]), 0))
    found = row.first()
    return None if found is None else found["n"]


# A member with more followers than this does not retire their followers' cached feeds one by
# one when they post: every cached feed goes instead.
FEED_FANOUT_MAX = 10_000
ALL_FEEDS = "feeds"


def feed_version(user_id: int) -> str:
    return f"feed-of:{user_id}"


def feed_key(user_id: int, limit: int) -> dict[str, tuple[str, ...]]:
    """The cache entry of a member's feed's first page of `limit`: {key: its version names}.

    What the page's rows depend on: the published posts of whom they follow and their own (the
    feed version, moved by `feeds_showing` for authors and their followers), their follows,
    blocks and staff status. The posts' bodies and the caller's likes are cached apart
    (posts.entries), so an edit of a post's text retires no page.
    """
    names = (
        feed_version(user_id),
        f"graph-of:{user_id}",
        f"blocks-of:{user_id}",
        f"user:{user_id}",
        ALL_FEEDS,
    )
    return {f"feed:{user_id}:{limit}": names}


def plan_feed(request, member_id: int, limit: int) -> None:
    """Want the first page of `limit`, and its posts as this process last saw it, at once."""
    keys = feed_key(member_id, limit)
    cache.want(request, entries=keys)
    if (rows := cache.kept(*keys)) is not None:
        cache.want(request, entries=post_entry_keys([pk for _, pk in rows[:limit]]))


def feeds_showing(owner_ids, *, using) -> list[str]:
    """The versions of the cached feeds that show these members' posts: theirs and their
    followers' (past FEED_FANOUT_MAX followers, every feed's)."""
    followers = list(
        Follow.objects.using(using)
        .filter(followee_id__in=owner_ids)
        .order_by()
        .values_list("follower_id", flat=True)[: FEED_FANOUT_MAX + 1]
    )
    if len(followers) > FEED_FANOUT_MAX:
        return [ALL_FEEDS]
    return [feed_version(pk) for pk in {*owner_ids, *followers}]


def feed(*, request, user, paginator) -> tuple[list[dict], tuple | None]:
    """A page of `user`'s home feed as `PostOut`, and the place of its last row if more follow.

    Fan-out on read: the newest visible published posts whose owner the caller follows (or
    is the caller), found by walking the newest-posts index from the cursor down; the posts'
    bodies and the caller's likes then come from the shared cache (posts.entries). The first
    page, the one most read, is cached per member and page size (`feed_key`), its query
    compiled once per process.
    """
    if paginator.limit == 0:
        return [], None
    size = paginator.limit + 1  # one more: is there a next page?
    if paginator.before is None:
        ((key, names),) = feed_key(user.pk, paginator.limit).items()
        rows = cache.read_through(
            request,
            key,
            versions_of=names,
            compute=lambda: _FEED_FIRST(
                user.pk, using=router.db_for_read(Post), staff=user.is_staff, size=size
            ),
        )
    else:
        posts = paginator.before_filter(_feed_posts(user))
        rows = list(posts.values_list("created_at", "id")[:size])
    page, more = rows[: paginator.limit], len(rows) > paginator.limit
    out = posts_out(request=request, user=user, ids=[pk for _, pk in page])
    return out, (page[-1] if more else None)


@dataclass(frozen=True)
class _Viewer:
    """Who `visible_to` is asked about, in a query compiled for any member (_FEED_FIRST)."""

    pk: int
    is_staff: bool
    is_authenticated: bool = True


def _feed_posts(user):
    followed = Follow.objects.filter(follower_id=user.pk).values("followee_id")
    return (
        Post.objects.visible_to(user)
        .filter(published=True)
        .filter(Q(owner_id__in=followed) | Q(owner_id=user.pk))
        .newest_first()
    )


_FEED_FIRST = CompiledValues(
    lambda user_id, *, staff, size: _feed_posts(_Viewer(user_id, staff)).values_list(
        "created_at", "id"
    )[:size],
    tuples=True,
)
