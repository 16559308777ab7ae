"""Deletions keep the counts and cached reads exact, whatever deletes: the API, the admin, a
cascade from a deleted user. (Saves do the same in Post.save() and Vote.save().)"""

from django.db.models import QuerySet
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from .models import Post, Vote, post_state_changed, vote_count_add


@receiver(pre_delete, sender=Post, dispatch_uid="posts.post_deleting")
def post_deleting(sender, instance, using, **kwargs):
    # Locked and read again: the counts must leave the state the row is in, not the state this
    # instance was loaded in (a moderator may have hidden it since).
    before = Post.objects.using(using).state_for_update(instance.pk)
    if before is not None:
        post_state_changed(instance.pk, before=before, after=None, using=using)


@receiver(pre_delete, sender=Vote, dispatch_uid="posts.vote_deleting")
def vote_deleting(sender, instance, using, origin=None, **kwargs):
    if _deleting_posts(origin):
        return  # the post goes too: nothing to count down
    # Locked first: of two deletions of one vote at once, only the one that will really delete
    # it counts it down (the other finds it gone once the first commits).
    if Vote.objects.using(using).select_for_update().filter(pk=instance.pk).exists():
        vote_count_add(instance.post_id, instance.user_id, -1, using=using)


def _deleting_posts(origin) -> bool:
    model = origin.model if isinstance(origin, QuerySet) else type(origin)
    return model is Post
