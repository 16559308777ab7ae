"""The follow counts stay exact whoever writes: the API, the admin, a cascade, a suspension;
and the cached home feeds follow the posts they show."""

from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from accounts.models import User
from core import cache
from posts.models import published_posts_changed

from . import selectors
from .models import Follow, FollowCounts, follow_counts_move


@receiver(pre_delete, sender=Follow, dispatch_uid="social.follow_deleting")
def follow_deleting(sender, instance, using, **kwargs):
    # Locked first: of two deletions of one follow at once, only the one that really deletes
    # it counts it down (the other finds it gone once the first commits).
    if Follow.objects.using(using).select_for_update().filter(pk=instance.pk).exists():
        follow_counts_move(instance.follower_id, instance.followee_id, -1, using=using)


@receiver(post_save, sender=User, dispatch_uid="social.member_saved")
def member_saved(sender, instance, created, update_fields, using, **kwargs):
    """A suspension or reinstatement changes what the member's neighbours count."""
    if created or (update_fields is not None and "is_active" not in update_fields):
        return
    follows = Follow.objects.using(using).order_by()
    followed = follows.filter(follower_id=instance.pk).values_list("followee_id", flat=True)
    followers = follows.filter(followee_id=instance.pk).values_list("follower_id", flat=True)
    ids = list(followed.union(followers, all=True))
    if ids:
        FollowCounts.objects.using(using).recount(ids)
        cache.invalidate(*(f"graph-of:{pk}" for pk in ids))  # their cached profiles


@receiver(published_posts_changed, dispatch_uid="social.feeds_changed")
def feeds_changed(sender, owner_ids, using, **kwargs):
    """New, gone or newly hidden posts retire the cached feeds that show them (their owners'
    followers'), found again once the write commits: a follow made meanwhile is among them."""
    cache.invalidate_found(
        lambda: selectors.feeds_showing(owner_ids, using=using), failing=[selectors.ALL_FEEDS]
    )
