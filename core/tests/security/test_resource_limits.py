"""API4 Unrestricted resource consumption: every input has a bound, and meeting it is cheap.

Pages hold at most 100 posts whatever `limit` says, any `skip` is one cheap query, every string
field has a maximum length answered with a 422 before any work is done on the value (no
password hash of a megabyte), and bodies over DATA_UPLOAD_MAX_MEMORY_SIZE are a 413
(core/tests/test_bad_input.py sweeps that over every endpoint and body format).
"""

import time

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from rest_framework.test import APIClient

from accounts.models import User
from posts.models import Post
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db

MAX_PAGE = 100


@pytest.fixture
def many_posts(user):
    PostFactory.create_batch(MAX_PAGE + 20, owner=user)


@pytest.mark.parametrize("limit", [101, 1000, 2**31, 2**63 - 1])
def test_a_page_never_holds_more_than_100_posts(auth_client, many_posts, limit):
    response = auth_client.get("/posts/", {"limit": limit})

    assert response.status_code == 200
    assert len(response.json()) == MAX_PAGE
    assert response["X-Total-Count"] == str(MAX_PAGE + 20)
    assert f"limit={MAX_PAGE}" in response["Link"]  # the next page asks for what it got


@pytest.mark.parametrize("limit", [2**63, -1, "1e9", "Infinity"])
def test_a_limit_that_is_not_a_page_size_is_a_422(auth_client, limit):
    response = auth_client.get("/posts/", {"limit": limit})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


@pytest.mark.parametrize("skip", [10**6, 2**62, 2**63 - 1])
def test_any_skip_is_one_cheap_answer(auth_client, many_posts, skip, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):  # the user, the count, no page when past the end
        response = auth_client.get("/posts/", {"skip": skip, "limit": MAX_PAGE})

    assert response.status_code == 200
    assert response.json() == []


# Strings: a maximum length for each, checked before any work on the value ---------------------

TOO_LONG = [
    ("post", "/users/", {"email": "e@example.com", "password": "p4ssw0rd-long"}, "email", 255),
    ("post", "/users/", {"email": "e@example.com", "password": "p4ssw0rd-long"}, "password", 129),
    ("patch", "/users/me", {}, "email", 255),
    (
        "post",
        "/users/me/password",
        {"current_password": "c", "new_password": "n"},
        "current_password",
        129,
    ),
    (
        "post",
        "/users/me/password",
        {"current_password": "c", "new_password": "n"},
        "new_password",
        129,
    ),
    ("post", "/login", {"username": "e@example.com", "password": "p"}, "username", 255),
    ("post", "/login", {"email": "e@example.com", "password": "p"}, "email", 255),
    ("post", "/login", {"username": "e@example.com", "password": "p"}, "password", 129),
    ("post", "/posts/", {"title": "t", "content": "c"}, "title", 256),
    ("post", "/posts/", {"title": "t", "content": "c"}, "content", 20_001),
    ("put", "/posts/{id}", {"title": "t", "content": "c"}, "title", 256),
    ("patch", "/posts/{id}", {}, "content", 20_001),
    ("post", "/posts/{id}/report", {"reason": "r"}, "reason", 1001),
]


def field_id(value):
    return value if isinstance(value, str) and not value.startswith("/") else None


@pytest.mark.parametrize("method, path, body, field, length", TOO_LONG, ids=field_id)
@pytest.mark.parametrize("scale", [1, 1000], ids=["just-over", "megabyte"])
def test_a_string_over_its_maximum_length_is_a_422_naming_it(
    auth_client, user, method, path, body, field, length, scale
):
    post = PostFactory(owner=user)
    value = "a" * (length if scale == 1 else min(length * scale, 2_000_000))
    before = (User.objects.count(), list(Post.objects.values_list("title", "content")))

    started = time.perf_counter()
    response = getattr(auth_client, method)(
        path.format(id=post.pk), {**body, field: value}, format="json"
    )
    elapsed = time.perf_counter() - started

    assert response.status_code == 422, response.content
    assert ["body", field] in [entry["loc"] for entry in response.json()["detail"]]
    assert (User.objects.count(), list(Post.objects.values_list("title", "content"))) == before
    assert elapsed < 2


@pytest.mark.parametrize("path", ["/login", "/users/", "/users/me/password"])
def test_a_password_too_long_is_refused_before_it_is_hashed(auth_client, monkeypatch, path):
    hashed = []
    monkeypatch.setattr(MD5PasswordHasher, "encode", lambda *args: hashed.append(args))
    monkeypatch.setattr(MD5PasswordHasher, "verify", lambda *args: hashed.append(args))
    huge = "p" * 1_000_000
    body = {
        "/login": {"username": "a@example.com", "password": huge},
        "/users/": {"email": "a@example.com", "password": huge},
        "/users/me/password": {"current_password": huge, "new_password": huge},
    }[path]

    response = auth_client.post(path, body, format="json")

    assert response.status_code == 422
    assert hashed == []


def test_a_search_over_200_characters_is_a_422(auth_client):
    response = auth_client.get("/posts/", {"search": "a" * 201})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "search"]


def test_a_body_full_of_unknown_fields_is_ignored_quickly(auth_client):
    body = {f"field{n}": n for n in range(50_000)} | {"title": "t", "content": "c"}

    started = time.perf_counter()
    response = auth_client.post("/posts/", body, format="json")

    assert response.status_code == 201
    assert time.perf_counter() - started < 2


def test_a_huge_refresh_token_is_refused_without_a_crash(db):
    response = APIClient().post("/token/refresh", {"refresh_token": "a" * 2_000_000}, format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": "Token is invalid or expired"}
