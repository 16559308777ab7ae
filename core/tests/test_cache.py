"""Cached reads (core.cache, API_CACHE) give exactly the answers the database would."""

import socket

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.services import tokens_issue
from conftest import authorize
from core import cache as api_cache
from moderation import services as moderation
from posts.models import Vote
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["local memory", "redis"])
def _cache_on(request, settings):
    """Every test with each store: Django's local-memory cache, and Redis as in production."""
    settings.API_CACHE = True
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    api_cache.memory.clear()


def test_a_repeated_list_is_served_from_the_cache_without_a_query(
    auth_client, django_assert_num_queries
):
    PostFactory.create_batch(3)
    first = auth_client.get("/posts/?limit=2")

    with django_assert_num_queries(0):
        again = auth_client.get("/posts/?limit=2")

    assert again.json() == first.json()
    assert again["X-Total-Count"] == first["X-Total-Count"] == "3"
    assert again["Link"] == first["Link"]


def test_a_vote_shows_in_the_very_next_list_and_detail(auth_client):
    post = PostFactory()
    assert auth_client.get("/posts/").json()[0]["votes"] == 0
    assert auth_client.get(f"/posts/{post.pk}").json()["votes"] == 0

    assert auth_client.post("/vote/", {"post_id": post.pk, "dir": 1}).status_code == 201

    assert auth_client.get("/posts/").json()[0]["votes"] == 1
    assert auth_client.get(f"/posts/{post.pk}").json()["votes"] == 1
    assert Vote.objects.filter(post=post).count() == 1


def test_a_new_post_changes_the_total_and_the_page_at_once(auth_client):
    PostFactory()
    assert auth_client.get("/posts/")["X-Total-Count"] == "1"

    created = auth_client.post("/posts/", {"title": "fresh", "content": "c"}).json()

    response = auth_client.get("/posts/")
    assert response["X-Total-Count"] == "2"
    assert response.json()[0]["Post"]["id"] == created["id"]


def test_an_edit_and_a_delete_show_at_once(auth_client, user):
    post = PostFactory(owner=user, title="before")
    assert auth_client.get(f"/posts/{post.pk}").json()["Post"]["title"] == "before"

    auth_client.patch(f"/posts/{post.pk}", {"title": "after"})
    assert auth_client.get(f"/posts/{post.pk}").json()["Post"]["title"] == "after"

    auth_client.delete(f"/posts/{post.pk}")
    assert auth_client.get(f"/posts/{post.pk}").status_code == 404
    assert auth_client.get("/posts/").json() == []


def test_a_cached_not_found_turns_into_the_post_once_it_exists(auth_client, other_user):
    post = PostFactory(owner=other_user, published=False)
    assert auth_client.get(f"/posts/{post.pk}").status_code == 404

    post.published = True
    post.save()

    assert auth_client.get(f"/posts/{post.pk}").status_code == 200


def test_a_hidden_post_disappears_for_others_at_once(auth_client, other_user, user):
    post = PostFactory(owner=other_user)
    assert auth_client.get("/posts/")["X-Total-Count"] == "1"

    moderation.post_hide(post=post, moderator=user, reason="spam")

    assert auth_client.get("/posts/")["X-Total-Count"] == "0"
    assert auth_client.get(f"/posts/{post.pk}").status_code == 404


def test_a_changed_email_shows_in_profiles_and_post_owners_at_once(auth_client, user):
    PostFactory(owner=user)
    assert auth_client.get(f"/users/{user.pk}").json()["email"] == user.email
    auth_client.get("/posts/")

    auth_client.patch("/users/me", {"email": "renamed@example.com"})

    assert auth_client.get(f"/users/{user.pk}").json()["email"] == "renamed@example.com"
    assert auth_client.get("/posts/").json()[0]["Post"]["owner"]["email"] == "renamed@example.com"


def test_a_suspension_stops_the_cached_token_user_on_the_next_request(
    auth_client, user, other_user
):
    assert auth_client.get("/users/me").status_code == 200  # the user is now cached

    other_user.is_staff = other_user.is_superuser = True
    other_user.save()
    moderation.user_suspend(user=user, moderator=other_user, reason="abuse")

    response = auth_client.get("/users/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_user_signing_up_after_a_cached_404_is_found(api_client):
    assert api_client.get("/users/12345").status_code == 404

    created = api_client.post(
        "/users/", {"email": "late@example.com", "password": "a-long-passphrase"}
    ).json()

    assert api_client.get(f"/users/{created['id']}").status_code == 200


def test_lists_are_cached_per_viewer(user, other_user):
    mine = PostFactory(owner=user, published=False)
    author, stranger = authorize(APIClient(), user), authorize(APIClient(), other_user)

    assert [item["Post"]["id"] for item in author.get("/posts/").json()] == [mine.pk]
    assert stranger.get("/posts/").json() == []


def test_a_failing_cache_falls_back_to_the_database(auth_client, monkeypatch):
    PostFactory()

    class Down:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise ConnectionError("cache down")

            return fail

    monkeypatch.setattr(api_cache, "store", Down)

    response = auth_client.get("/posts/")
    assert response.status_code == 200
    assert response["X-Total-Count"] == "1"
    assert auth_client.post("/posts/", {"title": "t", "content": "c"}).status_code == 201
    assert auth_client.get("/posts/")["X-Total-Count"] == "2"


def test_a_redis_that_is_down_leaves_reads_and_writes_working(user):
    """No server listens: every call to the cache fails at once, and the database answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    down = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{closed}/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_issue(user=user)['access_token']}")
    post = PostFactory()

    with override_settings(CACHES={"default": down}):
        api_cache.memory.clear()
        assert client.get("/posts/").json()[0]["Post"]["id"] == post.pk
        assert client.post("/vote/", {"post_id": post.pk, "dir": 1}).status_code == 201
        assert client.get(f"/posts/{post.pk}").json()["votes"] == 1
        assert client.get(f"/users/{user.pk}").status_code == 200
    api_cache.memory.clear()


def _versions(*names: str) -> dict:
    reader = api_cache.Reader()
    reader.want(versions=names)
    reader.fetch()
    return {name: reader.versions[name] for name in names}


def test_invalidate_found_moves_what_it_finds_now_and_what_it_finds_after_commit(
    django_capture_on_commit_callbacks,
):
    start = _versions("found", "appeared")
    finds = iter([["found"], ["found", "appeared"]])  # a name that appears before the commit

    with django_capture_on_commit_callbacks(execute=True):
        api_cache.invalidate_found(lambda: next(finds), failing=["everything"])
        now = _versions("found", "appeared")
    after = _versions("found", "appeared")

    assert now["found"] != start["found"] and now["appeared"] == start["appeared"]
    assert after["found"] != now["found"] and after["appeared"] != start["appeared"]


def test_invalidate_found_moves_the_wider_names_when_its_query_fails_after_commit(
    django_capture_on_commit_callbacks,
):
    def find():
        if calls:
            raise ConnectionError("the database went away after the commit")
        calls.append(1)
        return ["found"]

    calls = []
    start = _versions("found", "everything")
    with django_capture_on_commit_callbacks(execute=True):
        api_cache.invalidate_found(find, failing=["everything"])
    after = _versions("found", "everything")

    assert after["found"] != start["found"] and after["everything"] != start["everything"]
