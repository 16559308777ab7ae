"""Writes on posts and votes that take more than one step."""

from django.db import IntegrityError, transaction

from accounts.models import User
from core.exceptions import ConflictError, NotFoundError

from .models import Post, Vote


def post_get_visible(*, user: User, post_id: int) -> Post:
    """The post `user` may see, or the vote endpoint's 404."""
    post = Post.objects.visible_to(user).filter(pk=post_id).first()
    if post is None:
        raise NotFoundError(f"Post with id: {post_id} does not exist")
    return post


@transaction.atomic
def post_delete(*, post: Post) -> None:
    """Delete a post and, with it, its votes.

    The row lock comes first: a vote being added meanwhile must wait for it (its foreign-key
    check locks the post) and then fails as a 404, instead of slipping in between the votes'
    delete and the post's and breaking this delete with an IntegrityError (a 500).
    """
    if not Post.objects.select_for_update().filter(pk=post.pk).exists():
        raise NotFoundError(f"post with id: {post.pk} was not found")  # deleted meanwhile
    post.delete()


def vote_create(*, user: User, post_id: int) -> Vote:
    """Like a post once. The unique constraint settles races: the loser gets a 409."""
    post = post_get_visible(user=user, post_id=post_id)
    try:
        with transaction.atomic():
            return Vote.objects.create(user=user, post=post)
    except IntegrityError:
        if not Post.objects.filter(pk=post_id).exists():  # deleted meanwhile
            raise NotFoundError(f"Post with id: {post_id} does not exist") from None
        raise ConflictError(f"user {user.pk} has already voted on post {post_id}") from None


def vote_delete(*, user: User, post_id: int) -> None:
    post = post_get_visible(user=user, post_id=post_id)
    deleted, _ = Vote.objects.filter(user=user, post=post).delete()
    if not deleted:
        raise NotFoundError("Vote does not exist")
