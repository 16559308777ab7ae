"""While the database is down, every endpoint answers 503 in JSON with Retry-After, never a 500."""

import logging

import pytest
from django.db import InterfaceError, OperationalError, connections

from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_down(monkeypatch):
    """From here on every query fails as it does while PostgreSQL restarts."""

    def database_down(error):
        def broken_cursor(self, *args, **kwargs):
            raise error("connection failed: Connection refused")

        monkeypatch.setattr(type(connections["default"]), "cursor", broken_cursor)

    return database_down


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", "/posts/?limit=10", None),
        ("get", "/posts/{post}", None),
        ("get", "/users/{user}", None),
        ("post", "/posts/", {"title": "t", "content": "c"}),
        ("post", "/vote/", {"post_id": "{post}", "dir": 1}),
    ],
)
def test_database_error_answers_503_json_with_retry_after(
    auth_client, user, database_down, caplog, error, method, path, body
):
    post = PostFactory()
    path = path.format(post=post.pk, user=user.pk)
    if body and body.get("post_id"):
        body = {**body, "post_id": post.pk}
    database_down(error)

    with caplog.at_level(logging.WARNING, logger="socialapi.errors"):
        if method == "get":
            response = auth_client.get(path)
        else:
            response = auth_client.post(path, body, format="json")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Service temporarily unavailable"}
    assert int(response["Retry-After"]) >= 1
    levels = [r.levelname for r in caplog.records if r.name == "socialapi.errors"]
    assert levels == ["WARNING"]  # an outage, not a bug: no "Unhandled error" traceback


def test_other_errors_still_answer_500(auth_client, monkeypatch):
    def broken_cursor(self, *args, **kwargs):
        raise RuntimeError("a bug, not an outage")

    monkeypatch.setattr(type(connections["default"]), "cursor", broken_cursor)

    response = auth_client.get("/posts/")

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert "Retry-After" not in response
