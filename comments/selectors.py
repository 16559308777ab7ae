"""A post's thread as the caller sees it, from the shared cache (core.cache) or the database.

The thread is cached whole per post (up to THREAD_KEPT comments, rendered once), under the
post's comments version, which every comment write retires (comments.models), and "users"
(an author's email is in it). Each request then applies the caller's view to it: blocks (the
caller's cached block set), hidden comments (their author, the post's owner and staff), and
pages it. The post itself is checked from its cached entry, as `GET /posts/{id}` does. So a
cached thread costs no query; a thread longer than THREAD_KEPT, or a page past what it holds,
pages in the database (`CommentQuerySet.in_thread_of`), three queries whatever the page size.
"""

from django.db import router
from django.db.models import F

from core import cache
from core.db import CompiledValues
from posts.entries import Rows, blocked_members, post_entries, post_entry_keys
from posts.models import Post, can_see

from .models import Comment
from .serializers import ROW_FIELDS, CommentSerializer, comment_row_out

THREAD_KEPT = 200


def thread_key(post_id: int) -> dict[str, tuple[str, ...]]:
    """The cache entry of a post's thread: {key: its version names}."""
    return {f"thread:{post_id}": (f"comments-on:{post_id}", "users")}


def plan_thread(request, post_id: int) -> None:
    """Want the post's entry and its thread in the round trip that brings the caller."""
    cache.want(request, entries={**post_entry_keys([post_id]), **thread_key(post_id)})


def visible_post(*, request, user, post_id: int) -> dict | None:
    """The post's cached entry if `user` may see the post (as `GET /posts/{id}`), else None."""
    entry = post_entries(request, [post_id], rows := Rows(request, user))[post_id]
    if entry is None:
        return None
    blocked = rows.blocked_owners([post_id])
    if blocked is None:
        blocked = blocked_members(request, user)
    return entry if can_see(user, **entry["visibility"], blocked=blocked) else None


def thread_page(*, request, user, post: dict, limit: int, offset: int) -> tuple[list[dict], int]:
    """A page of the comments on `post` (an entry the caller may see) that the caller may see,
    oldest first, as `Comment`, and how many they may see in all."""
    post_id, owner_id = post["id"], post["post"]["owner_id"]
    if cache.enabled():
        ((key, names),) = thread_key(post_id).items()
        thread = cache.read_through(
            request, key, versions_of=names, compute=lambda: _thread(post_id)
        )
        if thread["complete"]:
            blocked = blocked_members(request, user)
            seen = [row["out"] for row in thread["rows"] if _shows(row, user, owner_id, blocked)]
            return seen[offset : offset + limit], len(seen)
    comments = Comment.objects.in_thread_of(Post(pk=post_id, owner_id=owner_id), user)
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
    """The post's comments, rendered, with what deciding who sees each needs; none past
    THREAD_KEPT (then `complete` is False)."""
    rows = _THREAD(post_id, using=router.db_for_read(Comment))
    if len(rows) > THREAD_KEPT:
        return {"rows": [], "complete": False}  # paged in the database: nothing to keep
    return {
        "rows": [
            {
                "out": comment_row_out(row),
                "author_id": row["author_id"],
                "hidden": row["hidden_at"] is not None,
            }
            for row in rows
        ],
        "complete": True,
    }


# A thread's first THREAD_KEPT + 1 comments and their authors, compiled once per process.
_THREAD = CompiledValues(
    lambda post_id: (
        Comment.objects.filter(post_id=post_id)
        .thread_order()
        .annotate(author_email=F("author__email"), author_created_at=F("author__created_at"))
        .values(*ROW_FIELDS)[: THREAD_KEPT + 1]
    )
)
