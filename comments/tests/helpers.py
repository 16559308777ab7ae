"""What the comments' tests share: the wire shapes as docs/api.md writes them, and small readers."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from comments.models import Comment
from conftest import authorize

from .factories import CommentFactory

# Every path answers with and without a trailing slash, without a redirect.
SLASHES = pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])

NOT_A_REPLY_TARGET = "There is no comment with this id on this post that you can see."
ONLY_THE_AUTHOR_EDITS = {"detail": "Only the comment's author can edit it"}
ONLY_THEY_DELETE = {"detail": "Only the comment's author, the post's owner or staff can delete it"}


def post_not_found(post_id) -> dict:
    return {"detail": f"Post with id: {post_id} does not exist"}


def comment_not_found(comment_id) -> dict:
    return {"detail": f"Comment with id: {comment_id} does not exist"}


def iso(moment) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def user_shape(user) -> dict:
    return {"id": user.pk, "email": user.email, "created_at": iso(user.created_at)}


def comment_shape(comment: Comment) -> dict:
    """The `Comment` shape of the row as it is in the database now."""
    comment = Comment.objects.select_related("author").get(pk=comment.pk)
    shape = {
        "id": comment.pk,
        "post_id": comment.post_id,
        "parent_id": comment.parent_id,
        "content": comment.content,
        "created_at": iso(comment.created_at),
        "edited_at": iso(comment.edited_at),
        "author": user_shape(comment.author),
    }
    if comment.hidden_at is not None:
        shape.update(hidden=True, hidden_reason=comment.hidden_reason)
    return shape


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()]


def links(response) -> dict[str, tuple[str, dict]]:
    """The `Link` header as {rel: (path, query)}."""
    found = {}
    for link in response["Link"].split(", "):
        url, rel = re.fullmatch(r'<([^>]*)>; rel="(\w+)"', link).groups()
        parts = urlsplit(url)
        found[rel] = (parts.path, parse_qs(parts.query, keep_blank_values=True))
    return found


def aged_comments(count: int, **kwargs) -> list[Comment]:
    """`count` comments written a minute apart, oldest first."""
    start = timezone.now() - timedelta(days=1)
    return [
        CommentFactory(created_at=start + timedelta(minutes=minute), **kwargs)
        for minute in range(count)
    ]


def assert_422(response, *entries):
    """A 422 whose `detail` is exactly `entries`: (loc, msg) or (loc, msg, type) each."""
    assert response.status_code == 422, response.content
    expected = [
        {
            "loc": list(entry[0]),
            "msg": entry[1],
            "type": entry[2] if len(entry) > 2 else "value_error",
        }
        for entry in entries
    ]
    assert response.json() == {"detail": expected}


def assert_unauthorized(response):
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert isinstance(response.json()["detail"], str)


def client_of(user) -> APIClient:
    """A client holding a real access token of `user`."""
    return authorize(APIClient(), user)
