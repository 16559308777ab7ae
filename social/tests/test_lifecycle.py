"""Two members through the graph's whole life, over HTTP only (docs/api.md Part 3)."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def member(email: str) -> tuple[APIClient, int]:
    client = APIClient()
    password = "a-long-passphrase-42"
    created = client.post("/users/", {"email": email, "password": password}, format="json")
    assert created.status_code == 201
    token = client.post("/login", {"username": email, "password": password}).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token['access_token']}")
    return client, created.json()["id"]


def test_follow_post_feed_like_block_vanish_unblock_follow_again():
    ann, ann_id = member("ann@example.com")
    bob, bob_id = member("bob@example.com")

    followed = ann.post(f"/users/{bob_id}/follow")
    assert followed.status_code == 201 and followed.json()["following"] is True
    post_id = bob.post("/posts/", {"title": "Hello", "content": "from Bob"}, format="json").json()[
        "id"
    ]

    feed = ann.get("/feed").json()
    assert [item["Post"]["id"] for item in feed] == [post_id]
    assert ann.post("/vote/", {"post_id": post_id, "dir": 1}, format="json").status_code == 201
    assert ann.get("/feed").json()[0]["voted"] is True
    assert bob.get("/users/me").json()["followers_count"] == 1

    assert bob.post(f"/users/{ann_id}/block").status_code == 201
    assert ann.get("/feed").json() == []
    assert ann.get(f"/posts/{post_id}").status_code == 404
    assert ann.get("/posts/").json() == []
    assert ann.post(f"/users/{bob_id}/follow").status_code == 403
    assert bob.get("/users/me").json()["followers_count"] == 0

    assert bob.delete(f"/users/{ann_id}/block").status_code == 204
    assert ann.get(f"/posts/{post_id}").status_code == 200
    assert ann.get("/feed").json() == []  # the block ended the follow
    assert ann.post(f"/users/{bob_id}/follow").status_code == 201
    assert [item["Post"]["id"] for item in ann.get("/feed").json()] == [post_id]
    assert ann.get(f"/users/{bob_id}").json()["followers_count"] == 1
