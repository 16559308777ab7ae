"""Writes on posts and votes that take more than one step."""

from django.db import IntegrityError, router, transaction
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from accounts.models import User
from core import cache, conditional
from core.db import CompiledValues
from core.exceptions import ConflictError, NotFoundError

from . import selectors
from .models import Post, PostCounts, PostTotals, Vote


def post_not_found(post_id: int) -> NotFoundError:
    return NotFoundError(f"Post with id: {post_id} does not exist")


def post_get_visible(*, user: User, post_id: int) -> Post:
    """The post `user` may see, or the vote endpoint's 404.

    Every vote, unvote and comment reads it first, so its query is compiled once per process
    (core.db.CompiledValues): building the visibility rule's query each time cost more CPU than
    the rest of a vote's statements.
    """
    using = router.db_for_read(Post)
    if user.is_authenticated:
        rows = _VISIBLE_TO_MEMBER[user.is_staff](post_id, user.pk, using=using)
    else:
        rows = _VISIBLE_TO_ANYONE(post_id, using=using)
    if not rows:
        raise post_not_found(post_id)
    return Post.from_db(using, _POST_FIELDS, [rows[0][name] for name in _POST_FIELDS])


_POST_FIELDS = [field.attname for field in Post._meta.concrete_fields]
_VISIBLE_TO_ANYONE = CompiledValues(
    lambda post_id: Post.objects.public().filter(pk=post_id).values(*_POST_FIELDS)
)
# {staff: the query}: the rule differs for staff (no blocks), not by who else the member is.
_VISIBLE_TO_MEMBER = {
    staff: CompiledValues(
        lambda post_id, user_id, staff=staff: (
            Post.objects.visible_to(User(pk=user_id, is_staff=staff))
            .filter(pk=post_id)
            .values(*_POST_FIELDS)
        )
    )
    for staff in (False, True)
}


@transaction.atomic
def post_update(*, post: Post, user: User, changes: dict, if_match: str | None = None) -> dict:
    """Change some of a post's fields; the post as `user` now reads it (`PostOut`, its ETag's).

    The row lock comes first: with `if_match` (If-Match) the post must still be what the caller
    read, or a 412 (of two edits holding one tag, the second waits here, then finds it stale).
    Only the fields given are written: a vote, a comment or a moderator's hide that came after
    `post` was read stays.
    """
    if Post.objects.state_for_update(post.pk) is None:
        raise NotFoundError(f"post with id: {post.pk} was not found")  # deleted meanwhile
    conditional.require_match(
        if_match, lambda: selectors.post_detail_from_database(user=user, post_id=post.pk)
    )
    for name, value in changes.items():
        setattr(post, name, value)
    post.save(update_fields=list(changes))
    return selectors.post_detail_from_database(user=user, post_id=post.pk)


@transaction.atomic
def post_delete(*, post: Post, user: User | None = None, if_match: str | None = None) -> None:
    """Delete a post and, with it, its votes; with `if_match`, only if `user` read it as it is.

    The row lock comes first: a vote being added meanwhile must wait for it (its foreign-key
    check locks the post) and then fails as a 404, instead of slipping in between the votes'
    delete and the post's and breaking this delete with an IntegrityError (a 500).
    """
    if not Post.objects.select_for_update().filter(pk=post.pk).exists():
        raise NotFoundError(f"post with id: {post.pk} was not found")  # deleted meanwhile
    conditional.require_match(
        if_match, lambda: selectors.post_detail_from_database(user=user, post_id=post.pk)
    )
    post.delete()


def vote_create(*, user: User, post_id: int) -> Vote:
    """Like a post once. The unique constraint settles races: the loser gets a 409.

    The post's vote count moves in the insert's transaction (Vote.save).
    """
    post = post_get_visible(user=user, post_id=post_id)
    try:
        with transaction.atomic():
            return Vote.objects.create(user=user, post=post)
    except IntegrityError:
        if not Post.objects.filter(pk=post_id).exists():  # deleted meanwhile
            raise NotFoundError(f"Post with id: {post_id} does not exist") from None
        raise ConflictError(f"user {user.pk} has already voted on post {post_id}") from None


def vote_delete(*, user: User, post_id: int) -> None:
    """Take a like back; the count moves in the delete's transaction (posts.signals)."""
    post = post_get_visible(user=user, post_id=post_id)
    deleted, _ = Vote.objects.filter(user=user, post=post).delete()
    if not deleted:
        raise NotFoundError("Vote does not exist")


@transaction.atomic
def post_counts_rebuild() -> None:
    """Count every post's votes and every member's posts again, from the rows.

    For after bulk writes that bypassed the models (seed_demo's COPY); run it while nothing else
    writes. A post's count is rewritten only where it is wrong.
    """
    votes = (
        Vote.objects.filter(post=OuterRef("pk")).order_by().values("post").annotate(n=Count("*"))
    )
    actual = Coalesce(Subquery(votes.values("n")), 0)
    Post.objects.exclude(vote_count=actual).update(vote_count=actual)
    by_owner = (
        Post.objects.order_by()
        .values("owner")
        .annotate(
            public=Count("pk", filter=Q(published=True, hidden_at__isnull=True)),
            hidden=Count("pk", filter=Q(published=True, hidden_at__isnull=False)),
            drafts=Count("pk", filter=Q(published=False)),
        )
    )
    PostCounts.objects.all().delete()
    PostCounts.objects.bulk_create(
        PostCounts(owner_id=row.pop("owner"), **row) for row in by_owner.iterator()
    )
    totals = PostCounts.objects.aggregate(public=Sum("public"), hidden=Sum("hidden"))
    PostTotals.objects.update_or_create(
        pk=PostTotals.ONLY,
        defaults={"public": totals["public"] or 0, "hidden": totals["hidden"] or 0},
    )
    cache.invalidate_all()
