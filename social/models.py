"""Who follows whom, and the follow counts kept beside the rows.

Blocks are `accounts.Block`: every app's visibility rule needs them, so they sit below posts;
the writes that make and lift them (ending follows both ways) are `social.services`.

A member's counts are kept, never counted per request, and they match the follower and
following lists: follows with a suspended member on the other side are not counted, as they
are not listed. Follow.save() and the deletion signal move them in the write's transaction; a
suspension or reinstatement counts its neighbours again (social/signals.py).
"""

from django.conf import settings
from django.db import models, router, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from core import cache
from core.db import CounterQuerySet


class FollowQuerySet(models.QuerySet):
    def followers_of(self, user_id: int):
        """Who follows `user_id` (suspended members left out), newest follow first."""
        return self.filter(followee_id=user_id, follower__is_active=True).newest_first()

    def following_of(self, user_id: int):
        """Whom `user_id` follows (suspended members left out), newest follow first."""
        return self.filter(follower_id=user_id, followee__is_active=True).newest_first()

    def newest_first(self):
        return self.order_by("-created_at", "-id")


class Follow(models.Model):
    """`follower` follows `followee`: once per pair, never oneself (the database says so)."""

    # No index of their own: the list indexes below lead with each.
    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="follows_made",
        db_index=False,
    )
    followee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="follows_received",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = FollowQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="follow_once"),
            models.CheckConstraint(condition=~Q(follower=F("followee")), name="follow_not_self"),
        ]
        indexes = [
            # The two lists, newest follow first; the first also serves the feed's
            # "whom does the caller follow" (and the unique index, "does A follow B").
            models.Index(fields=["follower", "-created_at", "-id"], name="follow_following_idx"),
            models.Index(fields=["followee", "-created_at", "-id"], name="follow_followers_idx"),
        ]

    def __str__(self):
        return f"{self.follower_id} follows {self.followee_id}"

    def save(self, *args, **kwargs):
        """A new follow moves both members' counts, in the insert's transaction."""
        using = kwargs.get("using") or router.db_for_write(Follow, instance=self)
        with transaction.atomic(using=using, savepoint=False):
            adding = self._state.adding
            super().save(*args, **kwargs)
            if adding:
                follow_counts_move(self.follower_id, self.followee_id, +1, using=using)


def follow_counts_move(follower_id: int, followee_id: int, delta: int, *, using) -> None:
    """Add `delta` to the counts one follow makes (where the other side is an active member),
    and retire the cached profiles and relations of both."""
    cache.invalidate(f"graph-of:{follower_id}", f"graph-of:{followee_id}")
    active = set(
        User.objects.using(using)
        .filter(pk__in=[follower_id, followee_id], is_active=True)
        .values_list("pk", flat=True)
    )
    if followee_id in active:
        FollowCounts.objects.using(using).move({"user_id": follower_id}, following=delta)
    if follower_id in active:
        FollowCounts.objects.using(using).move({"user_id": followee_id}, followers=delta)


class FollowCountsQuerySet(CounterQuerySet):
    def recount(self, user_ids) -> None:
        """Count these members' follows again from the rows (`user_ids`: ids or a subquery)."""
        follows = Follow.objects.order_by()
        followers = (
            follows.filter(followee_id=OuterRef("user_id"), follower__is_active=True)
            .values("followee_id")
            .annotate(n=Count("*"))
            .values("n")
        )
        following = (
            follows.filter(follower_id=OuterRef("user_id"), followee__is_active=True)
            .values("follower_id")
            .annotate(n=Count("*"))
            .values("n")
        )
        missing = User.objects.filter(pk__in=user_ids, follow_counts__isnull=True)
        self.bulk_create(
            [FollowCounts(user_id=pk) for pk in missing.values_list("pk", flat=True)],
            ignore_conflicts=True,
        )
        self.filter(user_id__in=user_ids).update(
            followers=Coalesce(Subquery(followers), 0), following=Coalesce(Subquery(following), 0)
        )


class FollowCounts(models.Model):
    """How many active members follow this one, and how many active members they follow."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="follow_counts",
    )
    followers = models.PositiveIntegerField(default=0, db_default=0)
    following = models.PositiveIntegerField(default=0, db_default=0)

    objects = FollowCountsQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "follow counts"

    def __str__(self):
        return f"{self.user_id}: {self.followers} followers, following {self.following}"
