"""Each follow, like and comment writes its notification in its own transaction; undoing a
follow or a like deletes it. Nobody is told of their own actions, or across a block."""

from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Block
from comments.models import Comment
from core import cache
from core.db import CompiledValues
from posts.models import Post, Vote
from social.models import Follow

from .models import Notification

Type = Notification.Type


def _notify(*, recipient_id: int, actor_id: int, type: str, using, **target) -> None:
    if recipient_id == actor_id:
        return  # one's own action
    if _BLOCK_BETWEEN(recipient_id, actor_id, using=using):
        return
    Notification.objects.using(using).create(
        recipient_id=recipient_id, actor_id=actor_id, type=type, **target
    )


# Every follow, like and comment asks it: compiled once per process (core.db.CompiledValues).
_BLOCK_BETWEEN = CompiledValues(
    lambda first_id, second_id: Block.objects.between(first_id, second_id).values("pk")[:1]
)


def _post_owner_id(instance, using) -> int | None:
    """The owner of the post a like or comment is on: from the post its service read (and
    checked the caller may see) a moment before, else a query; None if the post is gone."""
    if type(instance)._meta.get_field("post").is_cached(instance):
        return instance.post.owner_id
    owner = Post.objects.using(using).filter(pk=instance.post_id).values_list("owner_id", flat=True)
    return owner.first()


@receiver(post_save, sender=Follow, dispatch_uid="notifications.followed")
def followed(sender, instance, created, using, **kwargs):
    if created:
        _notify(
            recipient_id=instance.followee_id,
            actor_id=instance.follower_id,
            type=Type.FOLLOW,
            using=using,
        )


@receiver(post_save, sender=Vote, dispatch_uid="notifications.liked")
def liked(sender, instance, created, using, **kwargs):
    if not created:
        return
    owner_id = _post_owner_id(instance, using)
    if owner_id is not None:  # (deleted meanwhile: the like's foreign key fails its commit)
        _notify(
            recipient_id=owner_id,
            actor_id=instance.user_id,
            type=Type.VOTE,
            post_id=instance.post_id,
            using=using,
        )


@receiver(post_save, sender=Comment, dispatch_uid="notifications.commented")
def commented(sender, instance, created, using, **kwargs):
    """A reply tells the parent's author; any comment tells the post's owner (once, if the
    two are the same member)."""
    if not created:
        return
    # (A parent or post deleted meanwhile is found here as None: the comment's own foreign
    # keys, checked at commit, then fail its transaction, so there is nobody to tell.)
    target = {"post_id": instance.post_id, "comment_id": instance.pk}
    comments = Comment.objects.using(using)
    parent_author_id = None
    if instance.parent_id is not None:
        parent = comments.filter(pk=instance.parent_id).values_list("author_id", flat=True)
        parent_author_id = parent.first()
        if parent_author_id is not None:
            _notify(
                recipient_id=parent_author_id,
                actor_id=instance.author_id,
                type=Type.REPLY,
                using=using,
                **target,
            )
    owner_id = _post_owner_id(instance, using)
    if owner_id is not None and owner_id != parent_author_id:
        _notify(
            recipient_id=owner_id,
            actor_id=instance.author_id,
            type=Type.COMMENT,
            using=using,
            **target,
        )


@receiver(post_save, sender=Notification, dispatch_uid="notifications.written")
@receiver(post_delete, sender=Notification, dispatch_uid="notifications.deleted")
def inbox_changed(sender, instance, **kwargs):
    """Retire the recipient's cached first page and unread count (notifications.selectors)."""
    cache.invalidate(f"notifications-of:{instance.recipient_id}")


@receiver(post_delete, sender=Follow, dispatch_uid="notifications.unfollowed")
def unfollowed(sender, instance, using, origin=None, **kwargs):
    if _undone(origin, Follow):
        Notification.objects.using(using).filter(
            type=Type.FOLLOW, recipient_id=instance.followee_id, actor_id=instance.follower_id
        ).delete()


@receiver(post_delete, sender=Vote, dispatch_uid="notifications.unliked")
def unliked(sender, instance, using, origin=None, **kwargs):
    """The like is gone, so is its notification (read or not)."""
    if _undone(origin, Vote):
        Notification.objects.using(using).filter(
            type=Type.VOTE, post_id=instance.post_id, actor_id=instance.user_id
        ).delete()


def _undone(origin, model) -> bool:
    """Whether the row was deleted for itself (unfollow, unlike, a block's follow removal),
    not by a cascade whose foreign keys remove the notification anyway."""
    origin_model = origin.model if isinstance(origin, QuerySet) else type(origin)
    return origin_model is model
