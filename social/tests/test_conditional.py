"""Conditional requests on profiles (docs/api.md Part 4): ETag and If-None-Match on GET /users/{id}
and GET /users/me, If-Match on PATCH /users/me; with the read cache off, in local memory and in
Redis."""

import pytest

from accounts.models import User
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
from posts.tests.factories import PostFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cache_mode")]

NEW_EMAIL = {"email": "renamed@example.com"}


@pytest.fixture(params=CACHE_MODES)
def cache_mode(request, settings):
    """Each test with the shared read cache off, and on (core/tests/test_cache.py's stores)."""
    yield from serve_reads(request, settings)


@pytest.fixture(params=["me", "by id"])
def own_path(request, user) -> str:
    """The caller's own profile, by either path."""
    return "/users/me" if request.param == "me" else f"/users/{user.pk}"


def email_of(user) -> str:
    return User.objects.get(pk=user.pk).email


# --- GET and If-None-Match ---------------------------------------------------------------------


def test_get_answers_a_strong_etag_and_the_same_one_again(auth_client, own_path):
    assert_strong_etag_twice(auth_client, own_path)


@pytest.mark.parametrize(
    "header", ["{tag}", "W/{tag}", "*", '"0123", {tag}'], ids=["tag", "weak", "star", "list"]
)
def test_a_matching_if_none_match_is_304_with_no_body_and_the_etag(auth_client, own_path, header):
    tag = etag_of(auth_client, own_path)

    assert_not_modified(auth_client, own_path, tag, if_none_match=header_for(header, tag))


@pytest.mark.parametrize("header", ['"0123"', 'W/"0123", "4567"', "not-a-tag"])
def test_a_stale_if_none_match_is_200_with_the_profile(auth_client, user, own_path, header):
    response = assert_modified(auth_client, own_path, header)

    assert response.json()["id"] == user.pk


def test_a_visitor_gets_a_tag_and_a_304_too(api_client, other_user):
    path = f"/users/{other_user.pk}"
    tag = etag_of(api_client, path)

    assert_not_modified(api_client, path, tag)


def test_the_tag_is_of_what_each_caller_sees(api_client, auth_client, other_user):
    path = f"/users/{other_user.pk}"

    # A member's view says how they stand with them (`following`, `followed_by`).
    assert etag_of(api_client, path) != etag_of(auth_client, path)


@pytest.mark.parametrize(
    "change",
    ["email", "new post", "new follower", "follows someone"],
)
def test_the_tag_moves_with_each_change_of_the_profile(
    auth_client, other_client, user, other_user, own_path, change
):
    old = etag_of(auth_client, own_path)
    old_seen = etag_of(other_client, f"/users/{user.pk}")

    if change == "email":
        assert auth_client.patch("/users/me", NEW_EMAIL).status_code == 200
    elif change == "new post":
        assert auth_client.post("/posts/", {"title": "t", "content": "c"}).status_code == 201
    elif change == "new follower":
        assert other_client.post(f"/users/{user.pk}/follow").status_code == 201
    else:
        assert auth_client.post(f"/users/{other_user.pk}/follow").status_code == 201

    assert_modified(auth_client, own_path, old)
    assert_modified(other_client, f"/users/{user.pk}", old_seen)


# --- If-Match on PATCH /users/me ---------------------------------------------------------------


def test_a_change_with_the_current_tag_is_made_and_answers_the_next_get_tag(auth_client, user):
    tag = etag_of(auth_client, "/users/me")

    response = auth_client.patch("/users/me", NEW_EMAIL, HTTP_IF_MATCH=tag)

    assert response.status_code == 200, response.content
    assert response.json()["email"] == NEW_EMAIL["email"]
    assert email_of(user) == NEW_EMAIL["email"]
    assert_next_tag(auth_client, "/users/me", response, old=tag)


@pytest.mark.parametrize("meanwhile", ["email", "new follower", "new post"])
def test_a_stale_tag_is_412_and_changes_nothing(auth_client, other_client, user, meanwhile):
    stale = etag_of(auth_client, "/users/me")
    if meanwhile == "email":
        elsewhere = User.objects.get(pk=user.pk)
        elsewhere.email = "elsewhere@example.com"
        elsewhere.save()
    elif meanwhile == "new follower":
        assert other_client.post(f"/users/{user.pk}/follow").status_code == 201
    else:
        PostFactory(owner=user)
    before = email_of(user)

    response = auth_client.patch("/users/me", NEW_EMAIL, HTTP_IF_MATCH=stale)

    assert_precondition_failed(response, before=before, after=email_of(user))


@pytest.mark.parametrize("header", ["W/{tag}", '"0123"', "{unquoted}", '"0123", W/{tag}'])
def test_if_match_compares_strongly(auth_client, user, header):
    tag = etag_of(auth_client, "/users/me")

    response = auth_client.patch("/users/me", NEW_EMAIL, HTTP_IF_MATCH=header_for(header, tag))

    assert_precondition_failed(response, before=user.email, after=email_of(user))


@pytest.mark.parametrize("header", ["*", '"0123", {tag}', None], ids=["star", "list", "none"])
def test_star_a_list_naming_the_tag_or_no_header_let_the_change_through(auth_client, user, header):
    tag = etag_of(auth_client, "/users/me")
    headers = {} if header is None else {"HTTP_IF_MATCH": header_for(header, tag)}

    response = auth_client.patch("/users/me", NEW_EMAIL, **headers)

    assert response.status_code == 200, response.content
    assert email_of(user) == NEW_EMAIL["email"]
    assert_next_tag(auth_client, "/users/me", response)


def test_without_a_token_it_is_the_same_401_whatever_the_tag(api_client):
    response = api_client.patch("/users/me", NEW_EMAIL, HTTP_IF_MATCH='"0123"')

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
