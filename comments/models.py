"""Comments on posts, and replies to comments.

Each post carries the number of its comments that no moderator hid (`Post.comment_count`, shown
as `PostOut.comments`). Every write that changes it moves it with `F()` arithmetic in the same
transaction, whatever the path (the API, the admin, moderation, a cascade from a deleted
comment or member), so it is as exact as the rows, without a count per request.
"""

from django.conf import settings
from django.db import models, router, transaction
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone

from accounts.models import blocked_either_way, without_blocked
from core import cache
from posts.models import Post

CONTENT_MAX = 2_000


class CommentQuerySet(models.QuerySet):
    def visible_to(self, user, *, blocked: frozenset | None = None):
        """The one visibility rule for comments, used by the API, the admin and the services.

        A comment shows where its post shows (`Post.objects.visible_to`, blocks included),
        unless a moderator hid it or its author and the caller blocked each other. A hidden
        comment, or one on a hidden post, is seen by its author, the post's owner and staff.
        Authors always see their own comments; staff see every comment on a post they see.
        """
        if not user.is_authenticated:
            return self.filter(hidden_at__isnull=True, post__in=Post.objects.public())
        posts = Post.objects.visible_to(user, blocked=blocked)
        if user.is_staff:
            return self.filter(Q(post__in=posts) | Q(author_id=user.pk))
        if blocked is None:
            not_blocked = ~blocked_either_way(user.pk, field="author_id")
        else:
            not_blocked = ~Q(author_id__in=blocked)
        shown = (
            Q(post__in=posts)
            & not_blocked
            & (Q(hidden_at__isnull=True) | Q(post__owner_id=user.pk))
        )
        return self.filter(shown | Q(author_id=user.pk))

    def in_thread_of(self, post, user):
        """The comments on `post` (one `user` can see) that `user` may see: `visible_to`,
        without asking again whether the post shows."""
        comments = self.filter(post_id=post.pk)
        if user.is_staff:
            return comments
        shown = without_blocked(comments, user.pk, field="author_id")
        if post.owner_id != user.pk:
            shown = shown.filter(hidden_at__isnull=True)
        return shown | comments.filter(author_id=user.pk)

    def thread_order(self):
        """Conversation order: oldest first."""
        return self.order_by("created_at", "id")


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments"
    )
    # A reply's parent is a comment on the same post: the service checks it, and on PostgreSQL
    # a foreign key on (parent_id, post_id) makes it a rule of the database (migration 0002).
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    content = models.TextField(max_length=CONTENT_MAX)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set by a moderator (moderation.services.comment_hide).
    hidden_at = models.DateTimeField(null=True, blank=True, editable=False)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    hidden_reason = models.CharField(max_length=500, blank=True, editable=False)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        permissions = [("hide_comment", "Can hide and unhide comments")]
        constraints = [
            models.CheckConstraint(
                condition=GreaterThanOrEqual(Length("content"), 1)
                & LessThanOrEqual(Length("content"), CONTENT_MAX),
                name="comment_content_length",
            ),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="comment_not_own_parent"),
            # The target of the (parent_id, post_id) foreign key.
            models.UniqueConstraint(fields=["post", "id"], name="comment_post_and_id"),
        ]
        indexes = [
            # A post's thread, in conversation order, paged.
            models.Index(fields=["post", "created_at", "id"], name="comment_thread_idx"),
        ]

    def __str__(self):
        return f"comment {self.pk} on post {self.post_id}"

    def save(self, *args, **kwargs):
        """Save, and move the post's count if the comment appeared or was (un)hidden."""
        using = kwargs.get("using") or router.db_for_write(Comment, instance=self)
        with transaction.atomic(using=using, savepoint=False):
            was_shown = None
            if not self._state.adding:
                before = (
                    Comment.objects.using(using)
                    .select_for_update()
                    .filter(pk=self.pk)
                    .values("hidden_at")
                    .first()
                )
                was_shown = before is not None and before["hidden_at"] is None
            super().save(*args, **kwargs)
            now_shown = self.hidden_at is None
            if was_shown is None:
                if now_shown:
                    comment_count_add(self.post_id, +1, using=using)
            elif was_shown != now_shown:
                comment_count_add(self.post_id, +1 if now_shown else -1, using=using)
            cache.invalidate(f"comments-on:{self.post_id}")  # its thread (comments.selectors)


def comment_count_add(post_id: int, delta: int, *, using) -> None:
    """Move a post's comment count and retire its cached entry, in the caller's transaction."""
    Post.objects.using(using).filter(pk=post_id).update(comment_count=F("comment_count") + delta)
    cache.invalidate(f"post:{post_id}", f"comments-on:{post_id}")
