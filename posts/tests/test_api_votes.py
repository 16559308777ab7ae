"""POST /vote: like and unlike, to the letter of docs/api.md, checked against the database."""

import pytest

from posts.models import Vote

from .factories import PostFactory, VoteFactory

pytestmark = pytest.mark.django_db

ADDED = {"message": "successfully added vote"}
DELETED = {"message": "successfully deleted vote"}

SLASHES = pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])


def vote(client, post_id, direction, slash="/"):
    return client.post(f"/vote{slash}", {"post_id": post_id, "dir": direction}, format="json")


@SLASHES
def test_vote_returns_201_and_adds_one_row(auth_client, user, slash):
    post = PostFactory()

    response = vote(auth_client, post.pk, 1, slash)

    assert response.status_code == 201
    assert response.json() == ADDED
    assert list(Vote.objects.values_list("user_id", "post_id")) == [(user.pk, post.pk)]


@SLASHES
def test_unvote_returns_201_and_removes_the_row(auth_client, user, slash):
    post = PostFactory()
    VoteFactory(user=user, post=post)
    others_vote = VoteFactory(post=post)

    response = vote(auth_client, post.pk, 0, slash)

    assert response.status_code == 201
    assert response.json() == DELETED
    assert list(Vote.objects.all()) == [others_vote]


def test_second_vote_returns_409_and_keeps_one_row(auth_client, user):
    post = PostFactory()
    assert vote(auth_client, post.pk, 1).status_code == 201

    response = vote(auth_client, post.pk, 1)

    assert response.status_code == 409
    assert isinstance(response.json()["detail"], str)
    assert Vote.objects.filter(user=user, post=post).count() == 1


def test_vote_again_after_unvote_is_201(auth_client, user):
    post = PostFactory()
    assert vote(auth_client, post.pk, 1).status_code == 201
    assert vote(auth_client, post.pk, 0).status_code == 201
    assert vote(auth_client, post.pk, 1).status_code == 201
    assert Vote.objects.filter(user=user, post=post).count() == 1


def test_unvote_without_a_vote_returns_404(auth_client):
    post = PostFactory()
    VoteFactory(post=post)  # someone else's vote is not ours to remove

    response = vote(auth_client, post.pk, 0)

    assert response.status_code == 404
    assert response.json() == {"detail": "Vote does not exist"}
    assert Vote.objects.count() == 1


@pytest.mark.parametrize("direction", [0, 1])
@SLASHES
def test_vote_on_missing_post_returns_404(auth_client, direction, slash):
    response = vote(auth_client, 9999, direction, slash)
    assert response.status_code == 404
    assert response.json() == {"detail": "Post with id: 9999 does not exist"}
    assert not Vote.objects.exists()


@pytest.mark.parametrize("direction", [0, 1])
def test_vote_on_other_users_draft_returns_404(auth_client, other_user, direction):
    draft = PostFactory(owner=other_user, published=False)
    VoteFactory(post=draft, user=other_user)

    response = vote(auth_client, draft.pk, direction)

    assert response.status_code == 404
    assert response.json() == {"detail": f"Post with id: {draft.pk} does not exist"}
    assert Vote.objects.count() == 1


def test_owner_may_vote_on_own_draft(auth_client, user):
    draft = PostFactory(owner=user, published=False)
    assert vote(auth_client, draft.pk, 1).status_code == 201


@pytest.mark.parametrize("direction", [2, -1, "x", None, [1], 0.5])
def test_dir_other_than_0_or_1_returns_422(auth_client, direction):
    post = PostFactory()
    response = vote(auth_client, post.pk, direction)
    assert response.status_code == 422
    assert [entry["loc"] for entry in response.json()["detail"]] == [["body", "dir"]]
    assert not Vote.objects.exists()


@pytest.mark.parametrize(
    ("body", "locs"),
    [
        ({"dir": 1}, [["body", "post_id"]]),
        ({"post_id": 1}, [["body", "dir"]]),
        ({}, [["body", "post_id"], ["body", "dir"]]),
        ({"post_id": "abc", "dir": 1}, [["body", "post_id"]]),
        ({"post_id": None, "dir": 1}, [["body", "post_id"]]),
        ({"post_id": 1.5, "dir": 1}, [["body", "post_id"]]),
        ({"post_id": 2**64, "dir": 1}, [["body", "post_id"]]),
    ],
)
def test_missing_or_mistyped_fields_return_422(auth_client, body, locs):
    PostFactory()
    response = auth_client.post("/vote/", body, format="json")
    assert response.status_code == 422
    assert [entry["loc"] for entry in response.json()["detail"]] == locs
    assert not Vote.objects.exists()


def test_missing_fields_are_typed_missing(auth_client):
    response = auth_client.post("/vote/", {}, format="json")
    assert {entry["type"] for entry in response.json()["detail"]} == {"missing"}


def test_vote_accepts_a_form_body(auth_client, user):
    post = PostFactory()
    response = auth_client.post("/vote/", {"post_id": str(post.pk), "dir": "1"})
    assert response.status_code == 201
    assert Vote.objects.filter(user=user, post=post).exists()


@SLASHES
def test_vote_without_token_returns_401(api_client, slash):
    post = PostFactory()
    response = vote(api_client, post.pk, 1, slash)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert not Vote.objects.exists()


@pytest.mark.parametrize("authorized", [True, False])
def test_get_vote_returns_405_token_or_not(auth_client, api_client, authorized):
    # The original routed on the method before its auth dependency ran.
    response = (auth_client if authorized else api_client).get("/vote/")
    assert response.status_code == 405
    assert "detail" in response.json()


def test_json_nested_too_deep_returns_422(auth_client):
    body = "[" * 100_000 + "]" * 100_000
    response = auth_client.post("/vote/", body, content_type="application/json")
    assert response.status_code == 422
    assert not Vote.objects.exists()


def test_vote_counts_show_in_get_post(auth_client, other_client):
    post = PostFactory()

    def votes():
        return auth_client.get(f"/posts/{post.pk}").json()["votes"]

    assert votes() == 0
    vote(auth_client, post.pk, 1)
    assert votes() == 1
    vote(other_client, post.pk, 1)
    assert votes() == 2
    vote(auth_client, post.pk, 0)
    assert votes() == 1
    assert Vote.objects.filter(post=post).count() == 1


def test_vote_counts_show_in_the_list(auth_client, other_client):
    post = PostFactory()
    vote(auth_client, post.pk, 1)
    vote(other_client, post.pk, 1)
    assert auth_client.get("/posts/").json()[0]["votes"] == 2


def test_deleting_a_voted_post_makes_voting_404(auth_client, user):
    post = PostFactory(owner=user)
    vote(auth_client, post.pk, 1)
    assert auth_client.delete(f"/posts/{post.pk}").status_code == 204

    response = vote(auth_client, post.pk, 0)

    assert response.status_code == 404
    assert response.json() == {"detail": f"Post with id: {post.pk} does not exist"}
    assert not Vote.objects.exists()
