"""Writes on comments: who may, and the rules a reply keeps."""

from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from accounts.models import User
from core import cache, conditional
from core.db import exists_key_share_locked
from core.exceptions import ForbiddenError, NotFoundError
from posts.models import Post
from posts.services import post_get_visible

from .models import Comment
from .serializers import CommentSerializer

NOT_A_REPLY_TARGET = "There is no comment with this id on this post that you can see."


def comment_not_found(comment_id: int) -> NotFoundError:
    return NotFoundError(f"Comment with id: {comment_id} does not exist")


def comment_get_visible(*, user: User, comment_id: int) -> Comment:
    """The comment `user` may see, or the 404 (also when it exists but is not for them)."""
    comment = (
        Comment.objects.visible_to(user)
        .select_related("author", "post")  # the post: who may delete it, read with the comment
        .filter(pk=comment_id)
        .first()
    )
    if comment is None:
        raise comment_not_found(comment_id)
    return comment


def comment_create(*, author: User, post_id: int, content: str, parent_id: int | None) -> Comment:
    """Comment on a post the author can see, or reply to a comment on it that they can see.

    The post's row and the parent's are key-share locked before the insert, so a post or parent
    deleted meanwhile is a 404 or a 422 here, never a comment on nothing, a deadlock or a 500.
    """
    post = post_get_visible(user=author, post_id=post_id)
    if parent_id is not None and not (
        Comment.objects.visible_to(author).filter(pk=parent_id, post_id=post.pk).exists()
    ):
        raise ValidationError({"parent_id": [NOT_A_REPLY_TARGET]})
    try:
        with transaction.atomic():
            # The post, then the parent, locked against deletion until commit, in the order
            # every comment write takes them: a deletion meanwhile is waited for, never a
            # deadlock with it, and the rows the insert names still exist when it commits.
            if not exists_key_share_locked(Post.objects.filter(pk=post.pk)):
                raise NotFoundError(f"Post with id: {post_id} does not exist")
            if parent_id is not None and not exists_key_share_locked(
                Comment.objects.filter(pk=parent_id, post_id=post.pk)
            ):
                raise ValidationError({"parent_id": [NOT_A_REPLY_TARGET]})
            return Comment.objects.create(
                post=post, author=author, parent_id=parent_id, content=content
            )
    except IntegrityError:
        # The post or the parent went between the check and the insert.
        post_get_visible(user=author, post_id=post_id)
        raise ValidationError({"parent_id": [NOT_A_REPLY_TARGET]}) from None


def ensure_author(*, user: User, comment: Comment) -> None:
    if comment.author_id != user.pk:
        raise ForbiddenError("Only the comment's author can edit it")


def _locked(comment_id: int, if_match: str | None) -> Comment:
    """The comment as it is now, its row locked until commit (the 404 if it went meanwhile);
    with `if_match` (If-Match), the 412 unless that is the tag of the comment as it is now."""
    comment = (
        Comment.objects.select_for_update(of=("self",))
        .select_related("author")
        .filter(pk=comment_id)
        .first()
    )
    if comment is None:
        raise comment_not_found(comment_id)
    conditional.require_match(if_match, lambda: CommentSerializer(comment).data)
    return comment


@transaction.atomic
def comment_update(
    *, user: User, comment: Comment, content: str, if_match: str | None = None
) -> Comment:
    """Change a comment's words; only its author may. The comment returned is read again with
    its row locked, so what the response shows (and its ETag) is the comment as it now is."""
    ensure_author(user=user, comment=comment)
    comment = _locked(comment.pk, if_match)
    comment.content = content
    comment.edited_at = timezone.now()
    comment.save(update_fields=["content", "edited_at"])
    return comment


@transaction.atomic
def comment_delete(*, user: User, comment: Comment, if_match: str | None = None) -> None:
    """Delete a comment and its replies: its author, the post's owner or staff may (with
    `if_match`, only if the comment is still what they read)."""
    if not (user.pk in (comment.author_id, comment.post.owner_id) or user.is_staff):
        raise ForbiddenError("Only the comment's author, the post's owner or staff can delete it")
    # The post first, as comment_create locks it: a deletion of the post meanwhile is waited
    # for (the comment then went with it), never a deadlock with it. Then the row: a reply
    # being added meanwhile waits, then finds its parent gone.
    exists_key_share_locked(Post.objects.filter(pk=comment.post_id))
    _locked(comment.pk, if_match)  # deleted meanwhile: the 404
    comment.delete()


@transaction.atomic
def comment_counts_rebuild() -> None:
    """Count every post's shown comments again, from the rows (after bulk writes that passed
    by the models: seed_demo's COPY). A post's count is rewritten only where it is wrong."""
    shown = (
        Comment.objects.filter(post=OuterRef("pk"), hidden_at__isnull=True)
        .order_by()
        .values("post")
        .annotate(n=Count("*"))
    )
    actual = Coalesce(Subquery(shown.values("n")), 0)
    Post.objects.exclude(comment_count=actual).update(comment_count=actual)
    cache.invalidate_all()
