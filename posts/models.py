"""Posts and the votes (likes) members give them."""

from django.conf import settings
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone


class PostQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The one visibility rule: published posts, plus the caller's own drafts."""
        if not user.is_authenticated:
            return self.filter(published=True)
        return self.filter(Q(published=True) | Q(owner=user))

    def with_vote_counts(self):
        """Annotate `vote_count`, counted per row by the index on votes(post_id).

        A correlated subquery rather than JOIN + GROUP BY: the database counts votes only for
        the rows it returns (a page), not for every post before the LIMIT applies.
        """
        votes = (
            Vote.objects.filter(post=OuterRef("pk"))
            .order_by()
            .values("post")
            .annotate(count=Count("*"))
            .values("count")
        )
        return self.annotate(vote_count=Coalesce(Subquery(votes), 0))

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

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The list endpoint: newest first, stable across pages. The visibility columns
            # ride along so PostgreSQL picks a page's ids and counts the visible posts from the
            # index alone (an index-only scan). Key columns, not INCLUDE: SQLite has no INCLUDE.
            models.Index(
                fields=["-created_at", "-id", "published", "owner"],
                name="post_newest_covering_idx",
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
