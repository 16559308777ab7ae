"""Posts and the votes (likes) members give them."""

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Q
from django.utils import timezone

from core.db import SubqueryCount


class PostQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The one visibility rule, used by the API, the admin and the services.

        Everyone sees published posts that no moderator hid; owners see all of their own
        (drafts and hidden ones); staff also see hidden posts, but not other people's drafts.
        """
        if not user.is_authenticated:
            return self.filter(published=True, hidden_at__isnull=True)
        shown = Q(published=True) if user.is_staff else Q(published=True, hidden_at__isnull=True)
        return self.filter(shown | Q(owner=user))

    def with_vote_counts(self):
        """Annotate `vote_count`, counted per returned row by the index on votes(post_id)."""
        return self.annotate(
            vote_count=SubqueryCount(Vote.objects.filter(post=OuterRef("pk")).values("pk"))
        )

    def search(self, term: str):
        """Case-insensitive literal substring of the title (`%` and `_` match themselves)."""
        return self.filter(title__icontains=term) if term else self

    def newest_first(self):
        return self.order_by("-created_at", "-id")


class Post(models.Model):
    title = models.CharField(max_length=255)
    content = models.TextField(max_length=20_000)
    published = models.BooleanField(default=True, help_text="Unpublished posts are drafts.")
    created_at = models.DateTimeField(default=timezone.now)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts"
    )
    # Set by a moderator (moderation.services.post_hide): hidden from all but owner and staff.
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

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("hide_post", "Can hide and unhide posts")]
        indexes = [
            # The list endpoint: newest first, stable across pages. The visibility columns
            # ride along so PostgreSQL picks a page's ids and counts the visible posts from the
            # index alone (an index-only scan). Key columns, not INCLUDE: SQLite has no INCLUDE.
            models.Index(
                fields=["-created_at", "-id", "published", "owner", "hidden_at"],
                name="post_newest_visible_idx",
            ),
            # Title search (`UPPER(title) LIKE '%term%'`) has a trigram index on PostgreSQL,
            # made in migration 0003: it cannot be declared here portably.
        ]

    def __str__(self):
        return self.title


class Vote(models.Model):
    """One member's like of one post; the database keeps it to one per member and post."""

    # No index of its own: the (user, post) unique index serves lookups by user.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes", db_index=False
    )
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="votes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "post"], name="vote_one_per_user_and_post"),
        ]

    def __str__(self):
        return f"{self.user_id} likes {self.post_id}"
