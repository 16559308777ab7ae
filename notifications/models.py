"""What members are told: someone followed them, liked their post, commented on it, or
replied to their comment.

A notification is written by the action's own transaction (notifications.signals), so neither
exists without the other; undoing a follow or a like removes its notification, and deleting a
post or a comment removes theirs (foreign keys).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import without_blocked


class NotificationQuerySet(models.QuerySet):
    def inbox_of(self, user):
        """`user`'s notifications, less those from members they blocked or were blocked by
        (a block made after a notification hides it too)."""
        return without_blocked(self.filter(recipient_id=user.pk), user.pk, field="actor_id")

    def newest_first(self):
        return self.order_by("-created_at", "-id")


class Notification(models.Model):
    class Type(models.TextChoices):
        FOLLOW = "follow", "Followed you"
        VOTE = "vote", "Liked your post"
        COMMENT = "comment", "Commented on your post"
        REPLY = "reply", "Replied to your comment"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=10, choices=Type)
    post = models.ForeignKey(
        "posts.Post", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    comment = models.ForeignKey(
        "comments.Comment", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    read = models.BooleanField(default=False)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(actor=F("recipient")), name="notification_not_own_action"
            ),
            # What each type points at: a follow at nothing, a like at a post, a comment or
            # a reply at the comment and its post.
            models.CheckConstraint(
                condition=Q(type="follow", post__isnull=True, comment__isnull=True)
                | Q(type="vote", post__isnull=False, comment__isnull=True)
                | Q(type__in=["comment", "reply"], post__isnull=False, comment__isnull=False),
                name="notification_type_target",
            ),
            # Following or liking again after undoing it tells once, not twice.
            models.UniqueConstraint(
                fields=["recipient", "actor"],
                condition=Q(type="follow"),
                name="notification_one_per_follow",
            ),
            models.UniqueConstraint(
                fields=["actor", "post"], condition=Q(type="vote"), name="notification_one_per_like"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox_idx"),
            models.Index(
                fields=["recipient"], condition=Q(read=False), name="notification_unread_idx"
            ),
        ]

    def __str__(self):
        return f"{self.actor_id} {self.type} -> {self.recipient_id}"
