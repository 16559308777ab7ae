"""A post's thread as the caller sees it, from the shared cache (core.cache) or the database.

The thread is cached whole per post (up to THREAD_KEPT comments, rendered once) with what
decides who sees the post (its owner, published, hidden), under the post's comments version
(every comment write retires it: comments.models), its state version (posts.models: an edit,
a hide, a deletion; never a vote) and "users" (an author's email is in it). Each request then
applies the caller's view: the post's rule (`can_see`, with the caller's cached block set),
then each comment's (blocks, hidden comments), and pages it. So a cached thread costs no
query, and a missed one a single query and a single write. A thread longer than THREAD_KEPT,
or any thread without a cache, pages in the database (`CommentQuerySet.in_thread_of`): three
queries whatever the page size.
"""

from django.db import router
from django.db.models import F

from core import cache
from core.db import CompiledValues
from posts.entries import blocked_members
from posts.models import Post, can_see

from .models import Comment
from .serializers import CommentSerializer, comment_row_out

THREAD_KEPT = 200


def thread_key(post_id: int) -> dict[str, tuple[str, ...]]:
    """The cache entry of a post's thread: {key: its version names}."""
    names = (f"comments-on:{post_id}", f"post-state:{post_id}", "users")
    return {f"thread:{post_id}": names}


def plan_thread(request, post_id: int) -> None:
    """Want the thread in the round trip that brings the caller."""
    cache.want(request, entries=thread_key(post_id))


def thread_page(*, request, user, post_id: int, limit: int, offset: int):
    """(a page of the comments on post `post_id` that `user` may see, oldest first, as
    `Comment`; how many they may see in all), or None when they may not see the post."""
    if cache.enabled():
        ((key, names),) = thread_key(post_id).items()
        thread = cache.read_through(
            request, key, versions_of=names, compute=lambda: _thread(post_id)
        )
        post = thread["post"]
        blocked = blocked_members(request, user)
        if post is None or not can_see(user, **post, blocked=blocked):
            return None
        if thread["complete"]:
            owner_id = post["owner_id"]
            seen = [row["out"] for row in thread["rows"] if _shows(row, user, owner_id, blocked)]
            return seen[offset : offset + limit], len(seen)
    found = Post.objects.visible_to(user).filter(pk=post_id).values("owner_id").first()
    if found is None:
        return None
    comments = Comment.objects.in_thread_of(Post(pk=post_id, owner_id=found["owner_id"]), user)
    total = comments.count()
    if not limit or offset >= total:
        return [], total
    rows = comments.select_related("author").thread_order()[offset : offset + limit]
    return CommentSerializer(rows, many=True).data, total


def _shows(row: dict, user, owner_id: int, blocked: frozenset) -> bool:
    """`CommentQuerySet.in_thread_of` for one cached comment."""
    if user.is_staff or row["author_id"] == user.pk:
        return True
    if row["author_id"] in blocked:
        return False
    return not row["hidden"] or owner_id == user.pk


def _thread(post_id: int) -> dict:
    """The post's visibility and its comments, rendered, with what deciding who sees each
    needs ({"post": None} if there is no such post); no comments past THREAD_KEPT (then
    `complete` is False)."""
    rows = _THREAD(post_id, using=router.db_for_read(Comment))
    if not rows:
        return {"post": None, "rows": [], "complete": True}
    post = {
        "owner_id": rows[0]["post_owner_id"],
        "published": rows[0]["post_published"],
        "hidden": rows[0]["post_hidden_at"] is not None,
    }
    comments = [
        {"post_id": post_id, **{name: row[f"comment_{name}"] for name in _COMMENT_COLUMNS}}
        for row in rows
        if row["comment_id"] is not None  # none: the one row of a post without comments
    ]
    if len(comments) > THREAD_KEPT:
        return {"post": post, "rows": [], "complete": False}  # paged in the database
    shown = [
        {
            "out": comment_row_out(row),
            "author_id": row["author_id"],
            "hidden": row["hidden_at"] is not None,
        }
        for row in comments
    ]
    return {"post": post, "rows": shown, "complete": True}


# What comment_row_out() reads, besides post_id: {its name: the column from the post's row}.
_COMMENT_COLUMNS = {
    "id": "comments__id",
    "parent_id": "comments__parent_id",
    "content": "comments__content",
    "created_at": "comments__created_at",
    "edited_at": "comments__edited_at",
    "author_id": "comments__author_id",
    "author_email": "comments__author__email",
    "author_created_at": "comments__author__created_at",
    "hidden_at": "comments__hidden_at",
    "hidden_reason": "comments__hidden_reason",
}


def _thread_query(post_id):
    """The post's row joined to its first THREAD_KEPT + 1 comments and their authors (one row
    with no comment when it has none)."""
    return (
        Post.objects.filter(pk=post_id)
        .order_by("comments__created_at", "comments__id")
        .values(
            post_owner_id=F("owner_id"),
            post_published=F("published"),
            post_hidden_at=F("hidden_at"),
            **{f"comment_{name}": F(column) for name, column in _COMMENT_COLUMNS.items()},
        )[: THREAD_KEPT + 1]
    )


_THREAD = CompiledValues(_thread_query)
