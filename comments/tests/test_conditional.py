"""Conditional requests on /comments/{id} (docs/api.md Part 4): ETag and If-None-Match on GET,
If-Match on PATCH and DELETE."""

import pytest

from comments.models import Comment
from core.tests.conditional import (
    assert_modified,
    assert_next_tag,
    assert_not_modified,
    assert_precondition_failed,
    assert_strong_etag_twice,
    etag_of,
    header_for,
)
from moderation import services as moderation

from .factories import CommentFactory
from .helpers import ONLY_THE_AUTHOR_EDITS, ONLY_THEY_DELETE, comment_not_found, comment_shape

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("api_cache")]

EDIT = {"content": "Fixed a typo."}
WRITES = pytest.mark.parametrize("method", ["patch", "delete"])
SUCCESS = {"patch": 200, "delete": 204}


def path(comment) -> str:
    return f"/comments/{comment.pk}"


def write(client, method: str, comment, if_match: str | None = None):
    headers = {} if if_match is None else {"HTTP_IF_MATCH": if_match}
    body = EDIT if method == "patch" else None
    return getattr(client, method)(path(comment), body, format="json", **headers)


def row(comment) -> dict | None:
    return Comment.objects.filter(pk=comment.pk).values().first()


@pytest.fixture
def comment(user, post):
    """`user`'s comment on `other_user`'s post."""
    return CommentFactory(post=post, author=user, content="Frist!")


# --- GET and If-None-Match ---------------------------------------------------------------------


def test_get_answers_a_strong_etag_and_the_same_one_again(auth_client, other_client, comment):
    first = assert_strong_etag_twice(auth_client, path(comment))

    assert first.json() == comment_shape(comment)
    assert etag_of(other_client, path(comment)) == first["ETag"]  # one representation for everyone


@pytest.mark.parametrize(
    "header",
    ["{tag}", "W/{tag}", "*", '"0123", {tag}'],
    ids=["tag", "weak", "star", "list"],
)
def test_a_matching_if_none_match_is_304_with_no_body_and_the_etag(auth_client, comment, header):
    tag = etag_of(auth_client, path(comment))

    assert_not_modified(auth_client, path(comment), tag, if_none_match=header_for(header, tag))


@pytest.mark.parametrize("header", ['"0123"', 'W/"0123", "4567"', "not-a-tag"])
def test_a_stale_if_none_match_is_200_with_the_comment(auth_client, comment, header):
    response = assert_modified(auth_client, path(comment), header)

    assert response.json() == comment_shape(comment)


def test_the_tag_moves_with_an_edit(auth_client, other_client, comment):
    old = etag_of(other_client, path(comment))

    assert write(auth_client, "patch", comment).status_code == 200

    response = assert_modified(other_client, path(comment), old)
    assert response.json()["content"] == EDIT["content"]


def test_the_tag_moves_when_a_moderator_hides_it(auth_client, comment, staff_user):
    old = etag_of(auth_client, path(comment))

    moderation.comment_hide(comment=comment, moderator=staff_user, reason="spam")

    response = assert_modified(auth_client, path(comment), old)
    assert response.json()["hidden"] is True


# --- If-Match on PATCH and DELETE --------------------------------------------------------------


def test_an_edit_with_the_current_tag_is_made_and_answers_the_next_get_tag(auth_client, comment):
    tag = etag_of(auth_client, path(comment))

    response = write(auth_client, "patch", comment, if_match=tag)

    assert response.status_code == 200, response.content
    assert response.json() == comment_shape(comment)
    assert row(comment)["content"] == EDIT["content"]
    assert_next_tag(auth_client, path(comment), response, old=tag)


def test_a_delete_with_the_current_tag_deletes_it_and_its_replies(auth_client, comment):
    reply = CommentFactory.reply_to(comment)
    tag = etag_of(auth_client, path(comment))

    response = write(auth_client, "delete", comment, if_match=tag)

    assert response.status_code == 204
    assert row(comment) is None
    assert row(reply) is None


@WRITES
def test_a_stale_tag_is_412_and_changes_nothing(auth_client, comment, method):
    stale = etag_of(auth_client, path(comment))
    Comment.objects.filter(pk=comment.pk).update(content="Changed elsewhere.")
    before = row(comment)

    response = write(auth_client, method, comment, if_match=stale)

    assert_precondition_failed(response, before=before, after=row(comment))


@WRITES
@pytest.mark.parametrize("header", ["W/{tag}", '"0123"', "{unquoted}"])
def test_if_match_compares_strongly(auth_client, comment, method, header):
    tag = etag_of(auth_client, path(comment))
    before = row(comment)

    response = write(auth_client, method, comment, if_match=header_for(header, tag))

    assert_precondition_failed(response, before=before, after=row(comment))


@WRITES
@pytest.mark.parametrize("header", ["*", '"0123", {tag}', None], ids=["star", "list", "none"])
def test_star_a_list_naming_the_tag_or_no_header_let_the_write_through(
    auth_client, comment, method, header
):
    tag = etag_of(auth_client, path(comment))

    response = write(auth_client, method, comment, if_match=header_for(header, tag))

    assert response.status_code == SUCCESS[method], response.content
    if method == "delete":
        assert row(comment) is None
    else:
        assert row(comment)["content"] == EDIT["content"]
        assert_next_tag(auth_client, path(comment), response)


@pytest.mark.parametrize("header", ["*", '"0123"', "current"])
def test_an_edit_by_someone_else_is_the_same_403_whatever_the_tag(other_client, comment, header):
    tag = etag_of(other_client, path(comment)) if header == "current" else header
    before = row(comment)

    response = write(other_client, "patch", comment, if_match=tag)

    assert response.status_code == 403
    assert response.json() == ONLY_THE_AUTHOR_EDITS
    assert row(comment) == before


@pytest.mark.parametrize("header", ["*", '"0123"'])
def test_a_stranger_deleting_is_the_same_403_whatever_the_tag(auth_client, post, header):
    theirs = CommentFactory(post=post)

    response = write(auth_client, "delete", theirs, if_match=header)

    assert response.status_code == 403
    assert response.json() == ONLY_THEY_DELETE
    assert row(theirs) is not None


@WRITES
def test_a_comment_that_is_gone_is_the_same_404_whatever_the_tag(auth_client, comment, method):
    comment_id = comment.pk
    comment.delete()

    response = getattr(auth_client, method)(
        f"/comments/{comment_id}", EDIT, format="json", HTTP_IF_MATCH="*"
    )

    assert response.status_code == 404
    assert response.json() == comment_not_found(comment_id)
