"""Conditional requests on /posts/{id} (docs/api.md Part 4): ETag and If-None-Match on GET, If-Match
on PUT, PATCH and DELETE; with the read cache off, in local memory and in Redis."""

import re

import pytest

from accounts.tests.factories import UserFactory
from core import cache
from moderation import services as moderation
from posts.models import Post, Vote

from .factories import PostFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cache_mode")]

STALE = {"detail": "The resource has changed since you read it"}
FORBIDDEN = {"detail": "Not authorized to perform requested action"}
STRONG_TAG = re.compile(r'"[0-9a-f]{24}"')
BODIES = {"put": {"title": "new title", "content": "new content"}, "patch": {"title": "new title"}}
SUCCESS = {"put": 200, "patch": 200, "delete": 204}
WRITES = pytest.mark.parametrize("method", ["put", "patch", "delete"])


@pytest.fixture(params=["no cache", "local memory", "redis"])
def cache_mode(request, settings):
    """Each test with the shared read cache off, and on (core/tests/test_cache.py's stores)."""
    settings.API_CACHE = request.param != "no cache"
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    cache.memory.clear()
    yield request.param
    cache.memory.clear()


def path(post) -> str:
    return f"/posts/{post.pk}"


def etag_of(client, post) -> str:
    response = client.get(path(post))
    assert response.status_code == 200, response.content
    return response["ETag"]


def write(client, method: str, post, if_match: str | None = None):
    headers = {} if if_match is None else {"HTTP_IF_MATCH": if_match}
    return getattr(client, method)(path(post), BODIES.get(method), format="json", **headers)


def row(post) -> dict | None:
    return Post.objects.filter(pk=post.pk).values().first()


# --- GET and If-None-Match ---------------------------------------------------------------------


def test_get_answers_a_strong_etag_and_the_same_one_again(auth_client):
    post = PostFactory()

    first = auth_client.get(path(post))
    again = auth_client.get(path(post))

    assert first.status_code == again.status_code == 200
    assert STRONG_TAG.fullmatch(first["ETag"])
    assert again["ETag"] == first["ETag"]
    assert again.json() == first.json()


@pytest.mark.parametrize(
    "header",
    ["{tag}", "W/{tag}", "*", '"0123", {tag}', '{tag},W/"0123"', ' W/"x" ,  {tag} '],
    ids=["tag", "weak", "star", "last-of-list", "first-of-list", "spaces"],
)
def test_a_matching_if_none_match_is_304_with_no_body_and_the_etag(auth_client, header):
    post = PostFactory()
    tag = etag_of(auth_client, post)

    response = auth_client.get(path(post), HTTP_IF_NONE_MATCH=header.format(tag=tag))

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == tag


def test_head_with_a_matching_if_none_match_is_304(auth_client):
    post = PostFactory()
    tag = etag_of(auth_client, post)

    response = auth_client.head(path(post), HTTP_IF_NONE_MATCH=tag)

    assert response.status_code == 304
    assert response["ETag"] == tag


@pytest.mark.parametrize("header", ['"0123"', 'W/"0123", "4567"', "not-a-tag", ""])
def test_a_stale_if_none_match_is_200_with_the_post(auth_client, header):
    post = PostFactory()

    response = auth_client.get(path(post), HTTP_IF_NONE_MATCH=header)

    assert response.status_code == 200
    assert response.json()["Post"]["id"] == post.pk
    assert STRONG_TAG.fullmatch(response["ETag"])


def test_the_tag_moves_with_an_edit_and_the_old_one_gets_the_post_again(auth_client, user):
    post = PostFactory(owner=user)
    old = etag_of(auth_client, post)

    assert write(auth_client, "patch", post).status_code == 200

    response = auth_client.get(path(post), HTTP_IF_NONE_MATCH=old)
    assert response.status_code == 200
    assert response.json()["Post"]["title"] == "new title"
    assert response["ETag"] != old


def test_the_tag_moves_with_someones_vote_and_with_the_callers_own(auth_client, other_client, user):
    post = PostFactory(owner=user)
    tags = [etag_of(auth_client, post)]

    assert other_client.post("/vote/", {"post_id": post.pk, "dir": 1}).status_code == 201
    tags.append(etag_of(auth_client, post))  # votes: 1
    assert etag_of(other_client, post) != tags[-1]  # they see it voted by them
    assert auth_client.post("/vote/", {"post_id": post.pk, "dir": 1}).status_code == 201
    tags.append(etag_of(auth_client, post))  # votes: 2, voted

    assert len(set(tags)) == 3
    assert auth_client.get(path(post)).json()["voted"] is True
    assert etag_of(other_client, post) == tags[-1]  # the same bytes now: the same tag


def test_the_tag_moves_with_a_new_comment(auth_client, other_client, user):
    post = PostFactory(owner=user)
    old = etag_of(auth_client, post)

    created = other_client.post(f"/posts/{post.pk}/comments", {"content": "hi"}, format="json")
    assert created.status_code == 201

    response = auth_client.get(path(post), HTTP_IF_NONE_MATCH=old)
    assert response.status_code == 200
    assert response.json()["comments"] == 1


def test_the_tag_moves_when_the_owner_changes_their_email(auth_client, other_client, user):
    post = PostFactory(owner=user)
    old = etag_of(other_client, post)

    assert auth_client.patch("/users/me", {"email": "new@example.com"}).status_code == 200

    response = other_client.get(path(post), HTTP_IF_NONE_MATCH=old)
    assert response.status_code == 200
    assert response.json()["Post"]["owner"]["email"] == "new@example.com"


def test_a_repeated_read_from_the_cache_keeps_its_tag_and_a_write_moves_it_at_once(
    auth_client, user, cache_mode, django_assert_num_queries
):
    post = PostFactory(owner=user)
    tag = etag_of(auth_client, post)
    assert etag_of(auth_client, post) == tag  # (this one also caches the caller's blocks, likes)
    if cache_mode != "no cache":
        with django_assert_num_queries(0):  # served from the cache, tag and all
            assert auth_client.get(path(post), HTTP_IF_NONE_MATCH=tag).status_code == 304

    new = write(auth_client, "patch", post, if_match=tag)["ETag"]

    assert auth_client.get(path(post), HTTP_IF_NONE_MATCH=tag).status_code == 200
    assert auth_client.get(path(post), HTTP_IF_NONE_MATCH=new).status_code == 304
    assert etag_of(auth_client, post) == new


# --- If-Match on PUT, PATCH and DELETE ---------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_change_with_the_current_tag_is_made_and_answers_the_next_get_tag(
    auth_client, user, method
):
    post = PostFactory(owner=user, title="before")
    tag = etag_of(auth_client, post)

    response = write(auth_client, method, post, if_match=tag)

    assert response.status_code == 200, response.content
    assert response.json()["title"] == "new title"
    assert row(post)["title"] == "new title"
    assert response["ETag"] != tag
    assert response["ETag"] == etag_of(auth_client, post)


def test_a_delete_with_the_current_tag_deletes_the_post(auth_client, user):
    post = PostFactory(owner=user)
    Vote.objects.create(user=user, post=post)
    tag = etag_of(auth_client, post)

    response = write(auth_client, "delete", post, if_match=tag)

    assert response.status_code == 204
    assert response.content == b""
    assert row(post) is None
    assert not Vote.objects.filter(post_id=post.pk).exists()


@WRITES
def test_a_stale_tag_is_412_and_changes_nothing(auth_client, other_client, user, method):
    post = PostFactory(owner=user, title="before")
    stale = etag_of(auth_client, post)
    assert other_client.post("/vote/", {"post_id": post.pk, "dir": 1}).status_code == 201
    before = row(post)

    response = write(auth_client, method, post, if_match=stale)

    assert response.status_code == 412
    assert response.json() == STALE
    assert row(post) == before
    assert Vote.objects.filter(post=post).count() == 1


@WRITES
@pytest.mark.parametrize(
    "header",
    ['"0123"', "W/{tag}", "{tag_unquoted}", '"0123", W/{tag}'],
    ids=["other", "weak-of-current", "unquoted", "list-without-it"],
)
def test_if_match_compares_strongly(auth_client, user, method, header):
    post = PostFactory(owner=user, title="before")
    tag = etag_of(auth_client, post)
    before = row(post)

    response = write(
        auth_client, method, post, if_match=header.format(tag=tag, tag_unquoted=tag.strip('"'))
    )

    assert response.status_code == 412
    assert response.json() == STALE
    assert row(post) == before


@WRITES
@pytest.mark.parametrize("header", ["*", '"0123", {tag}', "{tag}"])
def test_star_a_list_naming_the_tag_or_the_tag_let_the_write_through(
    auth_client, user, method, header
):
    post = PostFactory(owner=user, title="before")
    tag = etag_of(auth_client, post)

    response = write(auth_client, method, post, if_match=header.format(tag=tag))

    assert response.status_code == SUCCESS[method], response.content
    assert (row(post) is None) if method == "delete" else (row(post)["title"] == "new title")


@WRITES
def test_without_if_match_writes_go_through_as_before(auth_client, other_client, user, method):
    post = PostFactory(owner=user, title="before")
    etag_of(auth_client, post)
    assert other_client.post("/vote/", {"post_id": post.pk, "dir": 1}).status_code == 201

    response = write(auth_client, method, post)

    assert response.status_code == SUCCESS[method], response.content
    if method == "delete":
        assert row(post) is None
    else:
        assert row(post)["title"] == "new title"
        assert row(post)["vote_count"] == 1  # a vote since the post was read stays counted
        assert response["ETag"] == etag_of(auth_client, post)


@WRITES
@pytest.mark.parametrize("header", ["*", '"0123"', "current"])
def test_someone_elses_post_is_the_same_403_whatever_the_tag(
    auth_client, other_user, method, header
):
    post = PostFactory(owner=other_user, title="before")
    tag = etag_of(auth_client, post) if header == "current" else header
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
    tag = etag_of(auth_client, post)

    response = write(auth_client, "patch", post, if_match=tag)

    assert response.status_code == 200
    assert row(post)["hidden_at"] is not None  # the owner's edit keeps the moderator's hide
    assert response["ETag"] == etag_of(auth_client, post)


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
