"""Deletions keep `Post.comment_count` exact, whatever deletes: the API, the admin, a parent
comment's or a member's cascade. (Saves do the same in Comment.save().)"""

from django.db.models import QuerySet
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from core import cache
from posts.models import Post

from .models import Comment, comment_count_add


@receiver(pre_delete, sender=Comment, dispatch_uid="comments.comment_deleting")
def comment_deleting(sender, instance, using, origin=None, **kwargs):
    if _deleting_posts(origin):
        return  # the post goes too: nothing to count down
    # Locked and read again: of two deletions at once only one finds the row, and the count
    # leaves the state the row is in now (a moderator may have hidden it since it was loaded).
    row = (
        Comment.objects.using(using)
        .select_for_update()
        .filter(pk=instance.pk)
        .values("hidden_at")
        .first()
    )
    if row is None:
        return  # deleted meanwhile: that deletion counted it
    if row["hidden_at"] is None:
        comment_count_add(instance.post_id, -1, using=using)
    # Counted or not, the thread its author, the post's owner and staff read held it.
    cache.invalidate(f"comments-on:{instance.post_id}")


def _deleting_posts(origin) -> bool:
    model = origin.model if isinstance(origin, QuerySet) else type(origin)
    return model is Post
