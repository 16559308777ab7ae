"""Reports members file about posts and comments, worked by staff in the admin."""

from django.conf import settings
from django.db import models
from django.db.models import Case, Q, Value, When


def queue_ordering() -> list:
    """The moderators' work order: open reports first, oldest first."""
    open_first = Case(When(status=Report.Status.OPEN, then=Value(0)), default=Value(1))
    return [open_first.asc(), "created_at", "id"]


class ReportQuerySet(models.QuerySet):
    def queue(self):
        return self.order_by(*queue_ordering())


class Report(models.Model):
    class Category(models.TextChoices):
        SPAM = "spam", "Spam"
        ABUSE = "abuse", "Harassment or abuse"
        ILLEGAL = "illegal", "Illegal content"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_filed"
    )
    # The reported post; for a report on a comment, the post the comment is on.
    post = models.ForeignKey("posts.Post", on_delete=models.CASCADE, related_name="reports")
    comment = models.ForeignKey(
        "comments.Comment",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reports",
        help_text="Set when the report is about this comment rather than the post.",
    )
    category = models.CharField(max_length=20, choices=Category, default=Category.OTHER)
    reason = models.TextField(max_length=1000, help_text="The reporter's own words.")
    status = models.CharField(max_length=20, choices=Status, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports_resolved",
    )

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "post"],
                condition=Q(status="open", comment__isnull=True),
                name="report_one_open_per_user_and_post",
            ),
            models.UniqueConstraint(
                fields=["reporter", "comment"],
                condition=Q(status="open", comment__isnull=False),
                name="report_one_open_per_user_and_comment",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="report_queue_idx")]

    def __str__(self):
        if self.comment_id is not None:
            return f"Report #{self.pk} on comment {self.comment_id} ({self.status})"
        return f"Report #{self.pk} on post {self.post_id} ({self.status})"
