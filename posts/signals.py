"""Keep cached post reads exact: any change to a post or a vote moves their cache versions."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core import cache

from .models import Post, Vote


@receiver([post_save, post_delete], sender=Post, dispatch_uid="posts.post_changed")
def post_changed(sender, **kwargs):
    cache.invalidate("posts")


@receiver([post_save, post_delete], sender=Vote, dispatch_uid="posts.vote_changed")
def vote_changed(sender, **kwargs):
    cache.invalidate("votes")
