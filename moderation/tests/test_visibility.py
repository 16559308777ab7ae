"""What moderation hides, over HTTP: hidden posts for others, owners and staff; suspended users."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory
from conftest import authorize, login
from moderation import services
from posts.models import Post, Vote
from posts.tests.factories import PostFactory, VoteFactory

pytestmark = pytest.mark.django_db

SLASHES = pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])


@pytest.fixture
def moderator(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(db):
    # Staff without superuser: the rule is "staff", not "superuser".
    return authorize(APIClient(), UserFactory(is_staff=True))


@pytest.fixture
def owner_post(other_user, moderator):
    """A published post of `other_user`, hidden by a moderator."""
    post = PostFactory(owner=other_user, title="Buy cheap watches")
    return services.post_hide(post=post, moderator=moderator, reason="spam")


def ids(response) -> list[int]:
    return [item["Post"]["id"] for item in response.json()]


def not_found(post_id) -> dict:
    return {"detail": f"post with id: {post_id} was not found"}


# --- hidden posts: everyone else ---------------------------------------------------------------


@SLASHES
def test_hidden_post_is_not_in_others_list_or_total_count(auth_client, owner_post, slash):
    shown = PostFactory()

    response = auth_client.get(f"/posts{slash}")

    assert response.status_code == 200
    assert ids(response) == [shown.pk]
    assert response["X-Total-Count"] == "1"
    assert "hidden" not in response.json()[0]


def test_hidden_post_is_not_found_in_a_title_search(auth_client, owner_post):
    response = auth_client.get("/posts/", {"search": "watches"})
    assert response.status_code == 200
    assert response.json() == []
    assert response["X-Total-Count"] == "0"


@SLASHES
def test_hidden_post_by_id_is_404_to_others(auth_client, owner_post, slash):
    response = auth_client.get(f"/posts/{owner_post.pk}{slash}")
    assert response.status_code == 404
    assert response.json() == not_found(owner_post.pk)


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_hidden_post_cannot_be_written_by_others_404(auth_client, owner_post, method):
    body = {"title": "mine now", "content": "c"}
    response = getattr(auth_client, method)(f"/posts/{owner_post.pk}", body, format="json")
    assert response.status_code == 404
    assert response.json() == not_found(owner_post.pk)
    assert Post.objects.get(pk=owner_post.pk).title == "Buy cheap watches"


def test_voting_on_a_hidden_post_is_404(auth_client, user, owner_post):
    response = auth_client.post("/vote/", {"post_id": owner_post.pk, "dir": 1}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": f"Post with id: {owner_post.pk} does not exist"}
    assert not Vote.objects.exists()


def test_unvoting_a_hidden_post_is_404_and_keeps_the_vote(auth_client, user, owner_post):
    VoteFactory(user=user, post=owner_post)  # voted before it was hidden
    response = auth_client.post("/vote/", {"post_id": owner_post.pk, "dir": 0}, format="json")
    assert response.status_code == 404
    assert Vote.objects.filter(user=user, post=owner_post).count() == 1


# --- hidden posts: the owner -------------------------------------------------------------------


def test_owner_sees_their_hidden_post_flagged_in_the_list(other_client, owner_post):
    visible = PostFactory(owner=owner_post.owner)

    response = other_client.get("/posts/")

    assert response.status_code == 200
    assert response["X-Total-Count"] == "2"
    items = {item["Post"]["id"]: item for item in response.json()}
    assert set(items) == {owner_post.pk, visible.pk}
    assert items[owner_post.pk]["hidden"] is True
    assert items[owner_post.pk]["hidden_reason"] == "spam"
    assert set(items[owner_post.pk]) == {
        "Post",
        "votes",
        "voted",
        "comments",
        "hidden",
        "hidden_reason",
    }
    assert set(items[visible.pk]) == {"Post", "votes", "voted", "comments"}


def test_owner_gets_their_hidden_post_by_id_flagged(other_client, owner_post):
    response = other_client.get(f"/posts/{owner_post.pk}")

    assert response.status_code == 200
    data = response.json()
    assert data["Post"]["id"] == owner_post.pk
    assert data["Post"]["published"] is True
    assert (data["hidden"], data["hidden_reason"], data["votes"]) == (True, "spam", 0)
    # The Post object keeps its exact original shape; the flag sits beside it.
    assert set(data["Post"]) == {
        "id",
        "title",
        "content",
        "published",
        "created_at",
        "owner_id",
        "owner",
    }


def test_owner_may_edit_their_hidden_post_and_it_stays_hidden(other_client, owner_post):
    response = other_client.put(
        f"/posts/{owner_post.pk}", {"title": "Edited", "content": "c"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["title"] == "Edited"
    post = Post.objects.get(pk=owner_post.pk)
    assert post.title == "Edited"
    assert post.hidden_at is not None


def test_owner_sees_a_hidden_draft_of_their_own(other_client, other_user, moderator):
    draft = services.post_hide(
        post=PostFactory(owner=other_user, published=False), moderator=moderator, reason="r"
    )
    data = other_client.get(f"/posts/{draft.pk}").json()
    assert (data["Post"]["published"], data["hidden"]) == (False, True)


# --- hidden posts: staff -----------------------------------------------------------------------


def test_staff_see_a_hidden_post_flagged_in_list_and_by_id(staff_client, owner_post):
    shown = PostFactory()

    listed = staff_client.get("/posts/")
    detail = staff_client.get(f"/posts/{owner_post.pk}")

    assert listed.status_code == 200
    assert listed["X-Total-Count"] == "2"
    items = {item["Post"]["id"]: item for item in listed.json()}
    assert items[owner_post.pk]["hidden"] is True
    assert "hidden" not in items[shown.pk] and "hidden_reason" not in items[shown.pk]
    assert detail.status_code == 200
    assert (detail.json()["hidden"], detail.json()["hidden_reason"]) == (True, "spam")


def test_staff_get_no_hidden_key_for_an_unhidden_post(staff_client):
    post = PostFactory()
    data = staff_client.get(f"/posts/{post.pk}").json()
    assert set(data) == {"Post", "votes", "voted", "comments"}


def test_staff_do_not_see_other_peoples_drafts(staff_client):
    draft = PostFactory(published=False)
    assert staff_client.get(f"/posts/{draft.pk}").status_code == 404
    assert staff_client.get("/posts/").json() == []


def test_staff_cannot_edit_a_hidden_post_of_someone_else(staff_client, owner_post):
    response = staff_client.put(
        f"/posts/{owner_post.pk}", {"title": "x", "content": "y"}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "Not authorized to perform requested action"}
    assert Post.objects.get(pk=owner_post.pk).title == "Buy cheap watches"


# --- unhide ------------------------------------------------------------------------------------


def test_unhide_brings_the_post_back_for_everyone(auth_client, user, owner_post, moderator):
    services.post_unhide(post=owner_post, moderator=moderator, reason="appeal")

    listed = auth_client.get("/posts/")
    detail = auth_client.get(f"/posts/{owner_post.pk}")
    voted = auth_client.post("/vote/", {"post_id": owner_post.pk, "dir": 1}, format="json")

    assert ids(listed) == [owner_post.pk]
    assert listed["X-Total-Count"] == "1"
    assert detail.status_code == 200
    assert "hidden" not in detail.json()
    assert voted.status_code == 201
    assert Vote.objects.filter(user=user, post=owner_post).exists()


def test_the_hidden_posts_votes_are_kept_and_count_again_when_unhidden(
    auth_client, owner_post, moderator
):
    VoteFactory.create_batch(3, post=owner_post)
    services.post_unhide(post=owner_post, moderator=moderator)
    assert auth_client.get(f"/posts/{owner_post.pk}").json()["votes"] == 3


# --- suspended users ---------------------------------------------------------------------------


@pytest.fixture
def suspended_tokens(user, moderator):
    """The tokens `user` held when a moderator suspended them."""
    tokens = login(APIClient(), user)
    services.user_suspend(user=user, moderator=moderator, reason="spam")
    return tokens


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_suspended_user_cannot_log_in(api_client, user, suspended_tokens, as_json):
    body = {"username": user.email, "password": PASSWORD}
    response = api_client.post("/login", body, format="json" if as_json else None)
    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid Credentials"}


def test_suspended_users_access_token_is_401_on_the_next_request(user, moderator):
    client = authorize(APIClient(), user)
    assert client.get("/users/me").status_code == 200

    services.user_suspend(user=user, moderator=moderator, reason="spam")

    for response in (
        client.get("/users/me"),
        client.get("/posts/"),
        client.post("/posts/", {"title": "t", "content": "c"}, format="json"),
    ):
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"
        assert isinstance(response.json()["detail"], str)
    assert not Post.objects.exists()


def test_suspended_users_refresh_token_is_401(api_client, suspended_tokens):
    response = api_client.post(
        "/token/refresh", {"refresh_token": suspended_tokens["refresh_token"]}, format="json"
    )
    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)


def test_suspended_users_posts_stay_visible_to_others(auth_client, other_user, moderator):
    post = PostFactory(owner=other_user)
    services.user_suspend(user=other_user, moderator=moderator, reason="spam")

    assert auth_client.get(f"/posts/{post.pk}").status_code == 200
    assert ids(auth_client.get("/posts/")) == [post.pk]
    assert (
        auth_client.post("/vote/", {"post_id": post.pk, "dir": 1}, format="json").status_code == 201
    )


def test_reinstated_user_logs_in_again_but_old_refresh_tokens_stay_revoked(
    api_client, user, moderator, suspended_tokens
):
    services.user_reinstate(user=user, moderator=moderator, reason="appeal")

    fresh = login(APIClient(), user)
    old_refresh = api_client.post(
        "/token/refresh", {"refresh_token": suspended_tokens["refresh_token"]}, format="json"
    )

    assert fresh["access_token"]
    assert old_refresh.status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh['access_token']}")
    assert client.get("/users/me").json()["id"] == user.pk


def test_a_suspended_users_admin_session_ends(client, moderator):
    staff = UserFactory(is_staff=True, is_superuser=False)
    client.force_login(staff)
    services.user_suspend(user=staff, moderator=moderator, reason="left")
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- the one rule: Post.objects.visible_to -----------------------------------------------------

KINDS = {
    "published": {},
    "draft": {"published": False},
    "hidden": {"hidden_at": timezone.now()},
    "hidden-draft": {"published": False, "hidden_at": timezone.now()},
}
SEES = {
    "anonymous": {"published"},
    "member": {"published"},
    "owner": {"published", "draft", "hidden", "hidden-draft"},
    "staff": {"published", "hidden"},
    "superuser": {"published", "hidden"},
}


@pytest.mark.parametrize("viewer", list(SEES))
def test_visible_to_is_the_rule_for_every_kind_of_viewer(viewer, other_user):
    posts = {kind: PostFactory(owner=other_user, **fields) for kind, fields in KINDS.items()}
    user = {
        "anonymous": AnonymousUser(),
        "member": UserFactory(),
        "owner": other_user,
        "staff": UserFactory(is_staff=True),
        "superuser": UserFactory(is_staff=True, is_superuser=True),
    }[viewer]

    visible = set(Post.objects.visible_to(user))

    assert visible == {posts[kind] for kind in SEES[viewer]}
