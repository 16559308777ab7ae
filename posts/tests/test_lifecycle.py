"""A whole client session over HTTP, as a client of the original API would run it."""

import pytest
from rest_framework.test import APIClient

from posts.models import Post, Vote

pytestmark = pytest.mark.django_db


def test_sign_up_log_in_create_list_vote_unvote_update_delete_then_404():
    client = APIClient()

    signup = client.post(
        "/users/", {"email": "ann@example.com", "password": "a-long-passphrase"}, format="json"
    )
    assert signup.status_code == 201, signup.content
    user_id = signup.json()["id"]

    login = client.post("/login", {"username": "ann@example.com", "password": "a-long-passphrase"})
    assert login.status_code == 200, login.content
    assert login.json()["token_type"] == "bearer"
    client.credentials(
        HTTP_AUTHORIZATION=f"{login.json()['token_type']} {login.json()['access_token']}"
    )

    created = client.post("/posts/", {"title": "First", "content": "Hello"}, format="json")
    assert created.status_code == 201
    post = created.json()
    assert (post["title"], post["published"], post["owner_id"]) == ("First", True, user_id)
    assert created["Location"] == f"/posts/{post['id']}"

    listed = client.get("/posts/")
    assert listed.status_code == 200
    assert listed.json() == [{"Post": post, "votes": 0, "voted": False, "comments": 0}]
    assert listed["X-Total-Count"] == "1"

    voted = client.post("/vote/", {"post_id": post["id"], "dir": 1}, format="json")
    assert (voted.status_code, voted.json()) == (201, {"message": "successfully added vote"})
    assert client.get(created["Location"]).json()["votes"] == 1
    assert client.get("/posts/").json()[0]["voted"] is True

    unvoted = client.post("/vote/", {"post_id": post["id"], "dir": 0}, format="json")
    assert (unvoted.status_code, unvoted.json()) == (201, {"message": "successfully deleted vote"})
    assert client.get(created["Location"]).json()["votes"] == 0
    assert client.get(created["Location"]).json()["voted"] is False

    client.post("/vote/", {"post_id": post["id"], "dir": 1}, format="json")  # goes with the post
    updated = client.put(
        f"/posts/{post['id']}", {"title": "First, edited", "content": "Hi"}, format="json"
    )
    assert updated.status_code == 200
    assert updated.json() == {**post, "title": "First, edited", "content": "Hi"}
    assert client.get(f"/posts/{post['id']}").json() == {
        "Post": updated.json(),
        "votes": 1,
        "voted": True,
        "comments": 0,
    }

    deleted = client.delete(f"/posts/{post['id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")

    gone = client.get(f"/posts/{post['id']}")
    assert gone.status_code == 404
    assert gone.json() == {"detail": f"post with id: {post['id']} was not found"}
    assert client.get("/posts/").json() == []
    assert not Post.objects.exists() and not Vote.objects.exists()
