"""Conditional requests on /posts/{id} (docs/api.md Part 4): ETag and If-None-Match on GET, If-Match
on PUT, PATCH and DELETE; with the read cache off, in local memory and in Redis."""

import pytest

from accounts.tests.factories import UserFactory
from core.tests.conditional import (
    CACHE_MODES,
    assert_modified,
    assert_next_tag,
    assert_not_modified,
    assert_precondition_failed,
    assert_strong_etag_twice,
    etag_of,
    header_for,
    serve_reads,
)
from moderation import services as moderation
from posts.models import Post, Vote

from .factories import PostFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cache_mode")]

FORBIDDEN = {"detail": "Not authorized to perform requested action"}
BODIES = {"put": {"title": "new title", "content": "new content"}, "patch": {"title": "new title"}}
SUCCESS = {"put": 200, "patch": 200, "delete": 204}
WRITES = pytest.mark.parametrize("method", ["put", "patch", "delete"])


@pytest.fixture(params=CACHE_MODES)
def cache_mode(request, settings):
    """Each test with the shared read cache off, and on (core/tests/test_cache.py's stores)."""
    yield from serve_reads(request, settings)


def path(post) -> str:
    return f"/posts/{post.pk}"


def write(client, method: str, post, if_match: str | None = None):
    headers = {} if if_match is None else {"HTTP_IF_MATCH": if_match}
    return getattr(client, method)(path(post), BODIES.get(method), format="json", **headers)


def row(post) -> dict | None:
    return Post.objects.filter(pk=post.pk).values().first()


# --- GET and If-None-Match ---------------------------------------------------------------------


def test_get_answers_a_strong_etag_and_the_same_one_again(auth_client):
    post = PostFactory()

    assert_strong_etag_twice(auth_client, path(post))


@pytest.mark.parametrize(
    "header",
    ["{tag}", "W/{tag}", "*", '"0123", {tag}', '{tag},W/"0123"', ' W/"x" ,  {tag} '],
    ids=["tag", "weak", "star", "last-of-list", "first-of-list", "spaces"],
)
def test_a_matching_if_none_match_is_304_with_no_body_and_the_etag(auth_client, header):
    post = PostFactory()
    tag = etag_of(auth_client, path(post))

    assert_not_modified(auth_client, path(post), tag, if_none_match=header_for(header, tag))


def test_head_with_a_matching_if_none_match_is_304(auth_client):
    post = PostFactory()
    tag = etag_of(auth_client, path(post))

    assert_not_modified(auth_client, path(post), tag, method="head")


@pytest.mark.parametrize("header", ['"0123"', 'W/"0123", "4567"', "not-a-tag", ""])
def test_a_stale_if_none_match_is_200_with_the_post(auth_client, header):
    post = PostFactory()

    response = assert_modified(auth_client, path(post), header)

    assert response.json()["Post"]["id"] == post.pk


def test_the_tag_moves_with_an_edit_and_the_old_one_gets_the_post_again(auth_client, user):
    post = PostFactory(owner=user)
    old = etag_of(auth_client, path(post))

    assert write(auth_client, "patch", post).status_code == 200

    response = assert_modified(auth_client, path(post), old)
    assert response.json()["Post"]["title"] == "new title"


def test_the_tag_moves_with_someones_vote_and_with_the_callers_own(auth_client, other_client, user):
    post = PostFactory(owner=user)
    tags = [etag_of(auth_client, path(post))]

    assert other_client.post("/vote/", {"post_id": post.pk, "dir": 1}).status_code == 201
    tags.append(etag_of(auth_client, path(post)))  # votes: 1
    assert etag_of(other_client, path(post)) != tags[-1]  # they see it voted by them
    assert auth_client.post("/vote/", {"post_id": post.pk, "dir": 1}).status_code == 201
    tags.append(etag_of(auth_client, path(post)))  # votes: 2, voted

    assert len(set(tags)) == 3
    assert auth_client.get(path(post)).json()["voted"] is True
    assert etag_of(other_client, path(post)) == tags[-1]  # the same bytes now: the same tag


def test_the_tag_moves_with_a_new_comment(auth_client, other_client, user):
    post = PostFactory(owner=user)
    old = etag_of(auth_client, path(post))

    created = other_client.post(f"/posts/{post.pk}/comments", {"content": "hi"}, format="json")
    assert created.status_code == 201

    response = assert_modified(auth_client, path(post), old)
    assert response.json()["comments"] == 1


def test_the_tag_moves_when_the_owner_changes_their_email(auth_client, other_client, user):
    post = PostFactory(owner=user)
    old = etag_of(other_client, path(post))

    assert auth_client.patch("/users/me", {"email": "new@example.com"}).status_code == 200

    response = assert_modified(other_client, path(post), old)
    assert response.json()["Post"]["owner"]["email"] == "new@example.com"


def test_a_repeated_read_from_the_cache_keeps_its_tag_and_a_write_moves_it_at_once(
    auth_client, user, cache_mode, django_assert_num_queries
):
    post = PostFactory(owner=user)
    tag = etag_of(auth_client, path(post))
    assert (
        etag_of(auth_client, path(post)) == tag
    )  # (this one also caches the caller's blocks, likes)
    if cache_mode != "no cache":
        with django_assert_num_queries(0):  # served from the cache, tag and all
            assert_not_modified(auth_client, path(post), tag)

    new = write(auth_client, "patch", post, if_match=tag)["ETag"]

    assert_modified(auth_client, path(post), tag)
    assert_not_modified(auth_client, path(post), new)
    assert etag_of(auth_client, path(post)) == new


# --- If-Match on PUT, PATCH and DELETE ---------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_change_with_the_current_tag_is_made_and_answers_the_next_get_tag(
    auth_client, user, method
):
    post = PostFactory(owner=user, title="before")
    tag = etag_of(auth_client, path(post))

    response = write(auth_client, method, post, if_match=tag)

    assert response.status_code == 200, response.content
    assert response.json()["title"] == "new title"
    assert row(post)["title"] == "new title"
    assert_next_tag(auth_client, path(post), response, old=tag)


def test_a_delete_with_the_current_tag_deletes_the_post(auth_client, user):
    post = PostFactory(owner=user)
    Vote.objects.create(user=user, post=post)
    tag = etag_of(auth_client, path(post))

    response = write(auth_client, "delete", post, if_match=tag)

    assert response.status_code == 204
    assert response.content == b""
    assert row(post) is None
    assert not Vote.objects.filter(post_id=post.pk).exists()


@WRITES
def test_a_stale_tag_is_412_and_changes_nothing(auth_client, other_client, user, method):
    post = PostFactory(owner=user, title="before")
    stale = etag_of(auth_client, path(post))
    assert other_client.post("/vote/", {"post_id": post.pk, "dir": 1}).status_code == 201
    before = row(post)

    response = write(auth_client, method, post, if_match=stale)

    assert_precondition_failed(response, before=before, after=row(post))
    assert Vote.objects.filter(post=post).count() == 1


@WRITES
@pytest.mark.parametrize(
    "header",
    ['"0123"', "W/{tag}", "{unquoted}", '"0123", W/{tag}'],
    ids=["other", "weak-of-current", "unquoted", "list-without-it"],
)
def test_if_match_compares_strongly(auth_client, user, method, header):
    post = PostFactory(owner=user, title="before")
    tag = etag_of(auth_client, path(post))
    before = row(post)

    response = write(auth_client, method, post, if_match=header_for(header, tag))

    assert_precondition_failed(response, before=before, after=row(post))


@WRITES
@pytest.mark.parametrize("header", ["*", '"0123", {tag}', "{tag}"])
def test_star_a_list_naming_the_tag_or_the_tag_let_the_write_through(
    auth_client, user, method, header
):
    post = PostFactory(owner=user, title="before")
    tag = etag_of(auth_client, path(post))

    response = write(auth_client, method, post, if_match=header_for(header, tag))

    assert response.status_code == SUCCESS[method], response.content
    assert (row(post) is None) if method == "delete" else (row(post)["title"] == "new title")


@WRITES
def test_without_if_match_writes_go_through_as_before(auth_client, other_client, user, method):
    post = PostFactory(owner=user, title="before")
    etag_of(auth_client, path(post))
    assert other_client.post("/vote/", {"post_id": post.pk, "dir": 1}).status_code == 201

    response = write(auth_client, method, post)

    assert response.status_code == SUCCESS[method], response.content
    if method == "delete":
        assert row(post) is None
    else:
        assert row(post)["title"] == "new title"
        assert row(post)["vote_count"] == 1  # a vote since the post was read stays counted
        assert_next_tag(auth_client, path(post), response)


@WRITES
@pytest.mark.parametrize("header", ["*", '"0123"', "current"])
def test_someone_elses_post_is_the_same_403_whatever_the_tag(
    auth_client, other_user, method, header
):
    post = PostFactory(owner=other_user, title="before")
    tag = etag_of(auth_client, path(post)) if header == "current" else header
    before = row(post)

    response = write(auth_client, method, post, if_match=tag)

    assert response.status_code == 403
    assert response.json() == FORBIDDEN
    assert row(post) == before


@WRITES
def test_a_post_one_cannot_see_or_that_is_gone_is_the_same_404_whatever_the_tag(
    auth_client, other_user, method
):
    draft = PostFactory(owner=other_user, published=False)
    gone = PostFactory(owner=other_user)
    gone_id = gone.pk
    gone.delete()

    for post_id in (draft.pk, gone_id):
        response = getattr(auth_client, method)(
            f"/posts/{post_id}", BODIES.get(method), format="json", HTTP_IF_MATCH='"0123"'
        )
        assert response.status_code == 404
        assert response.json() == {"detail": f"post with id: {post_id} was not found"}
    assert row(draft) is not None


def test_a_hidden_post_shows_its_owner_a_tag_that_if_match_accepts(auth_client, user):
    post = PostFactory(owner=user, title="before")
    moderation.post_hide(post=post, moderator=UserFactory(is_staff=True), reason="spam")
    tag = etag_of(auth_client, path(post))

    response = write(auth_client, "patch", post, if_match=tag)

    assert response.status_code == 200
    assert row(post)["hidden_at"] is not None  # the owner's edit keeps the moderator's hide
    assert_next_tag(auth_client, path(post), response)


def test_a_browser_may_send_the_conditions_and_read_the_etag(auth_client, user):
    post = PostFactory(owner=user)
    origin = {"HTTP_ORIGIN": "https://app.example.com"}

    preflight = auth_client.options(
        path(post),
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="if-match, if-none-match",
        **origin,
    )
    read = auth_client.get(path(post), **origin)

    allowed = preflight["Access-Control-Allow-Headers"].split(", ")
    assert {"if-match", "if-none-match"} <= set(allowed)
    assert "ETag" in read["Access-Control-Expose-Headers"].split(", ")
