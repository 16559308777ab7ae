"""The /posts endpoints, to the letter of docs/api.md: statuses, bodies, headers, the database."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from comments.tests.factories import CommentFactory
from posts.models import Post, Vote
from posts.services import post_counts_rebuild

from .factories import PostFactory, VoteFactory

pytestmark = pytest.mark.django_db

FORBIDDEN = {"detail": "Not authorized to perform requested action"}

# Every path answers with and without a trailing slash, without a redirect.
SLASHES = pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])


def not_found(post_id) -> dict:
    return {"detail": f"post with id: {post_id} was not found"}


def user_shape(user) -> dict:
    return {"id": user.pk, "email": user.email, "created_at": iso(user.created_at)}


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def post_shape(post) -> dict:
    return {
        "id": post.pk,
        "title": post.title,
        "content": post.content,
        "published": post.published,
        "created_at": iso(post.created_at),
        "owner_id": post.owner_id,
        "owner": user_shape(post.owner),
    }


def ids(response) -> list[int]:
    return [item["Post"]["id"] for item in response.json()]


def links(response) -> dict[str, tuple[str, dict]]:
    """The `Link` header as {rel: (path, query)}."""
    found = {}
    for link in response["Link"].split(", "):
        url, rel = re.fullmatch(r'<([^>]*)>; rel="(\w+)"', link).groups()
        parts = urlsplit(url)
        found[rel] = (parts.path, parse_qs(parts.query, keep_blank_values=True))
    return found


def aged_posts(count: int, **kwargs) -> list[Post]:
    """`count` posts created a minute apart, oldest first."""
    start = timezone.now() - timedelta(days=1)
    return [
        PostFactory(created_at=start + timedelta(minutes=minute), **kwargs)
        for minute in range(count)
    ]


def assert_unauthorized(response):
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert isinstance(response.json()["detail"], str)


def assert_422(response, *locs):
    assert response.status_code == 422, response.content
    assert [entry["loc"] for entry in response.json()["detail"]] == [list(loc) for loc in locs]
    for entry in response.json()["detail"]:
        assert set(entry) == {"loc", "msg", "type"}


# --- POST /posts/ ------------------------------------------------------------------------------


@SLASHES
def test_create_returns_201_post_shape_and_location(auth_client, user, slash):
    response = auth_client.post(
        f"/posts{slash}", {"title": "Hello", "content": "World", "published": False}, format="json"
    )

    assert response.status_code == 201, response.content
    post = Post.objects.get()
    assert response.json() == post_shape(post)
    assert response["Location"] == f"/posts/{post.pk}"
    assert (post.title, post.content, post.published, post.owner) == ("Hello", "World", False, user)


def test_create_without_published_publishes(auth_client):
    response = auth_client.post("/posts/", {"title": "t", "content": "c"}, format="json")
    assert response.status_code == 201
    assert response.json()["published"] is True
    assert Post.objects.get().published is True


def test_create_ignores_owner_id_id_created_at_and_votes_in_the_body(auth_client, user, other_user):
    existing = PostFactory()
    long_ago = "2000-01-01T00:00:00Z"
    body = {
        "title": "t",
        "content": "c",
        "owner_id": other_user.pk,
        "owner": {"id": other_user.pk},
        "id": existing.pk,
        "created_at": long_ago,
        "votes": 99,
    }

    response = auth_client.post("/posts/", body, format="json")

    assert response.status_code == 201
    data = response.json()
    assert data["owner_id"] == user.pk and data["owner"]["id"] == user.pk
    assert data["id"] != existing.pk
    assert not data["created_at"].startswith("2000")
    created = Post.objects.get(pk=data["id"])
    assert created.owner == user
    assert created.created_at > timezone.now() - timedelta(minutes=1)
    assert Post.objects.get(pk=existing.pk).title == existing.title  # untouched
    assert not Vote.objects.exists()


def test_create_accepts_a_form_body(auth_client, user):
    response = auth_client.post("/posts/", {"title": "form", "content": "body"})
    assert response.status_code == 201
    assert response.json()["published"] is True  # a missing form field is not a false checkbox
    assert Post.objects.get().owner == user
    assert Post.objects.get().published is True


def test_create_with_a_null_character_returns_422(auth_client):
    response = auth_client.post("/posts/", {"title": "a\x00b", "content": "c"}, format="json")
    assert_422(response, ("body", "title"))
    assert not Post.objects.exists()


@SLASHES
def test_create_without_token_returns_401_and_creates_nothing(api_client, slash):
    response = api_client.post(f"/posts{slash}", {"title": "t", "content": "c"}, format="json")
    assert_unauthorized(response)
    assert not Post.objects.exists()


def test_create_with_a_bad_token_returns_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = api_client.post("/posts/", {"title": "t", "content": "c"}, format="json")
    assert_unauthorized(response)


def test_create_missing_fields_returns_422_per_field(auth_client):
    response = auth_client.post("/posts/", {}, format="json")
    assert_422(response, ("body", "title"), ("body", "content"))
    assert {entry["type"] for entry in response.json()["detail"]} == {"missing"}
    assert not Post.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": 123, "content": "c"}, "title"),
        ({"title": ["t"], "content": "c"}, "title"),
        ({"title": None, "content": "c"}, "title"),
        ({"title": "t", "content": {"a": 1}}, "content"),
        ({"title": "t", "content": 4.5}, "content"),
        ({"title": "t", "content": "c", "published": "maybe"}, "published"),
        ({"title": "t", "content": "c", "published": None}, "published"),
        ({"title": "t" * 256, "content": "c"}, "title"),
    ],
)
def test_create_mistyped_field_returns_422(auth_client, body, field):
    response = auth_client.post("/posts/", body, format="json")
    assert_422(response, ("body", field))
    assert not Post.objects.exists()


@pytest.mark.parametrize("published", ["0", 0, 1, "true", "false", "yes", 1.0])
def test_create_with_published_not_a_json_boolean_returns_422(auth_client, published):
    body = {"title": "t", "content": "c", "published": published}

    response = auth_client.post("/posts/", body, format="json")

    assert response.json() == {
        "detail": [
            {"loc": ["body", "published"], "msg": "Must be a valid boolean.", "type": "value_error"}
        ]
    }
    assert response.status_code == 422
    assert not Post.objects.exists()


@pytest.mark.parametrize(("sent", "stored"), [("true", True), ("false", False), ("False", False)])
def test_a_form_says_published_as_true_or_false_in_any_case(auth_client, sent, stored):
    response = auth_client.post("/posts/", {"title": "t", "content": "c", "published": sent})

    assert response.status_code == 201, response.content
    assert response.json()["published"] is stored
    assert Post.objects.get().published is stored


@pytest.mark.parametrize("published", ["0", "1", "on", ""])
def test_a_form_with_published_other_than_true_or_false_returns_422(auth_client, published):
    form = f"title=t&content=c&published={published}"

    response = auth_client.post("/posts/", form, content_type="application/x-www-form-urlencoded")

    assert_422(response, ("body", "published"))
    assert not Post.objects.exists()


def test_create_with_a_title_too_long_as_sent_returns_422_though_spaces_pad_it(auth_client):
    body = {"title": "t" * 255 + " ", "content": "c"}

    response = auth_client.post("/posts/", body, format="json")

    assert_422(response, ("body", "title"))
    assert response.json()["detail"][0]["msg"] == (
        "Ensure this field has no more than 255 characters."
    )
    assert not Post.objects.exists()


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '"a string"', "{"])
def test_create_with_a_body_that_is_not_an_object_returns_422(auth_client, raw):
    response = auth_client.post("/posts/", raw, content_type="application/json")
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)
    assert not Post.objects.exists()


# --- GET /posts/{id} ---------------------------------------------------------------------------


@SLASHES
def test_get_returns_200_post_out_with_votes(auth_client, slash):
    post = PostFactory()
    VoteFactory.create_batch(2, post=post)
    VoteFactory()  # another post's vote does not count
    CommentFactory.create_batch(3, post=post)
    CommentFactory()  # nor does another post's comment

    response = auth_client.get(f"/posts/{post.pk}{slash}")

    assert response.status_code == 200
    assert response.json() == {
        "Post": post_shape(post),
        "votes": 2,
        "voted": False,
        "comments": 3,
    }
    assert list(response.json()) == ["Post", "votes", "voted", "comments"]


def test_get_says_whether_the_caller_liked_the_post(auth_client, user):
    liked, other = PostFactory.create_batch(2)
    VoteFactory(user=user, post=liked)
    VoteFactory(post=other)  # someone else's like

    assert auth_client.get(f"/posts/{liked.pk}").json()["voted"] is True
    assert auth_client.get(f"/posts/{other.pk}").json()["voted"] is False


def test_get_without_votes_counts_zero(auth_client):
    post = PostFactory()
    assert auth_client.get(f"/posts/{post.pk}").json()["votes"] == 0


@SLASHES
def test_get_missing_post_returns_404_with_message(auth_client, slash):
    response = auth_client.get(f"/posts/12345{slash}")
    assert response.status_code == 404
    assert response.json() == not_found(12345)


@SLASHES
def test_get_without_token_returns_401(api_client, slash):
    post = PostFactory()
    assert_unauthorized(api_client.get(f"/posts/{post.pk}{slash}"))


def test_get_with_a_non_integer_id_returns_422(auth_client):
    assert_422(auth_client.get("/posts/abc"), ("path", "id"))


def test_owner_gets_own_draft(auth_client, user):
    draft = PostFactory(owner=user, published=False)
    response = auth_client.get(f"/posts/{draft.pk}")
    assert response.status_code == 200
    assert response.json()["Post"] == post_shape(draft)


def test_other_users_draft_is_404(auth_client, other_user):
    draft = PostFactory(owner=other_user, published=False)
    response = auth_client.get(f"/posts/{draft.pk}")
    assert response.status_code == 404
    assert response.json() == not_found(draft.pk)


def test_get_costs_at_most_two_queries(auth_client, django_assert_max_num_queries):
    post = PostFactory()
    VoteFactory.create_batch(20, post=post)
    with django_assert_max_num_queries(2):
        response = auth_client.get(f"/posts/{post.pk}")
    assert response.json()["votes"] == 20


# --- PUT /posts/{id} ---------------------------------------------------------------------------


@SLASHES
def test_put_replaces_post_and_returns_200_post_shape(auth_client, user, slash):
    post = PostFactory(owner=user, published=False)
    body = {"title": "New", "content": "Text", "published": False}

    response = auth_client.put(f"/posts/{post.pk}{slash}", body, format="json")

    assert response.status_code == 200, response.content
    post.refresh_from_db()
    assert (post.title, post.content, post.published) == ("New", "Text", False)
    assert response.json() == post_shape(post)


def test_put_without_published_sets_it_true(auth_client, user):
    post = PostFactory(owner=user, published=False)
    response = auth_client.put(f"/posts/{post.pk}", {"title": "a", "content": "b"}, format="json")
    assert response.status_code == 200
    assert response.json()["published"] is True
    post.refresh_from_db()
    assert post.published is True


def test_put_ignores_owner_id_id_created_at_and_votes(auth_client, user, other_user):
    post = PostFactory(owner=user)
    created_at = post.created_at
    body = {
        "title": "a",
        "content": "b",
        "owner_id": other_user.pk,
        "id": post.pk + 100,
        "created_at": "2000-01-01T00:00:00Z",
        "votes": 5,
    }

    response = auth_client.put(f"/posts/{post.pk}", body, format="json")

    assert response.status_code == 200
    assert response.json()["id"] == post.pk
    assert response.json()["owner_id"] == user.pk
    post.refresh_from_db()
    assert (post.owner, post.created_at, post.title) == (user, created_at, "a")
    assert not Post.objects.filter(pk=post.pk + 100).exists()
    assert not Vote.objects.exists()


def test_put_missing_fields_returns_422_and_keeps_post(auth_client, user):
    post = PostFactory(owner=user)
    response = auth_client.put(f"/posts/{post.pk}", {"title": "only"}, format="json")
    assert_422(response, ("body", "content"))
    post.refresh_from_db()
    assert post.title != "only"


def test_put_mistyped_field_returns_422(auth_client, user):
    post = PostFactory(owner=user)
    body = {"title": "t", "content": "c", "published": "sometimes"}
    assert_422(auth_client.put(f"/posts/{post.pk}", body, format="json"), ("body", "published"))


@SLASHES
def test_put_by_non_owner_returns_403_and_changes_nothing(other_client, user, slash):
    post = PostFactory(owner=user, title="Mine")
    body = {"title": "Hijacked", "content": "x", "published": False}

    response = other_client.put(f"/posts/{post.pk}{slash}", body, format="json")

    assert response.status_code == 403
    assert response.json() == FORBIDDEN
    post.refresh_from_db()
    assert (post.title, post.published, post.owner) == ("Mine", True, user)


def test_put_on_other_users_draft_returns_404(other_client, user):
    draft = PostFactory(owner=user, published=False, title="Secret")
    response = other_client.put(f"/posts/{draft.pk}", {"title": "x", "content": "y"}, format="json")
    assert response.status_code == 404
    assert response.json() == not_found(draft.pk)
    draft.refresh_from_db()
    assert draft.title == "Secret"


@SLASHES
def test_put_missing_post_returns_404(auth_client, slash):
    response = auth_client.put(f"/posts/999{slash}", {"title": "a", "content": "b"}, format="json")
    assert response.status_code == 404
    assert response.json() == not_found(999)


@SLASHES
def test_put_without_token_returns_401(api_client, user, slash):
    post = PostFactory(owner=user, title="Mine")
    response = api_client.put(f"/posts/{post.pk}{slash}", {"title": "a", "content": "b"})
    assert_unauthorized(response)
    post.refresh_from_db()
    assert post.title == "Mine"


# --- PATCH /posts/{id} -------------------------------------------------------------------------


@SLASHES
def test_patch_changes_only_the_given_fields(auth_client, user, slash):
    post = PostFactory(owner=user, title="Old", content="Keep", published=False)

    response = auth_client.patch(f"/posts/{post.pk}{slash}", {"title": "New"}, format="json")

    assert response.status_code == 200, response.content
    post.refresh_from_db()
    assert (post.title, post.content, post.published) == ("New", "Keep", False)
    assert response.json() == post_shape(post)


def test_patch_can_publish_a_draft(auth_client, user, other_client):
    draft = PostFactory(owner=user, published=False)
    assert other_client.get(f"/posts/{draft.pk}").status_code == 404

    response = auth_client.patch(f"/posts/{draft.pk}", {"published": True}, format="json")

    assert response.status_code == 200
    assert other_client.get(f"/posts/{draft.pk}").status_code == 200


def test_patch_ignores_read_only_fields(auth_client, user, other_user):
    post = PostFactory(owner=user)
    body = {"owner_id": other_user.pk, "id": 0, "created_at": "2000-01-01T00:00:00Z"}
    response = auth_client.patch(f"/posts/{post.pk}", body, format="json")
    assert response.status_code == 200
    refreshed = Post.objects.get(pk=post.pk)
    assert (refreshed.owner, refreshed.created_at) == (user, post.created_at)


def test_patch_mistyped_field_returns_422(auth_client, user):
    post = PostFactory(owner=user)
    assert_422(
        auth_client.patch(f"/posts/{post.pk}", {"title": ""}, format="json"), ("body", "title")
    )


@SLASHES
def test_patch_by_non_owner_returns_403_and_changes_nothing(other_client, user, slash):
    post = PostFactory(owner=user, title="Mine")
    response = other_client.patch(f"/posts/{post.pk}{slash}", {"title": "Taken"}, format="json")
    assert response.status_code == 403
    assert response.json() == FORBIDDEN
    post.refresh_from_db()
    assert post.title == "Mine"


def test_patch_missing_post_returns_404(auth_client):
    response = auth_client.patch("/posts/999", {"title": "x"}, format="json")
    assert response.status_code == 404
    assert response.json() == not_found(999)


def test_patch_without_token_returns_401(api_client):
    post = PostFactory()
    assert_unauthorized(api_client.patch(f"/posts/{post.pk}", {"title": "x"}, format="json"))


# --- DELETE /posts/{id} ------------------------------------------------------------------------


@SLASHES
def test_delete_returns_204_without_body_and_takes_votes_along(auth_client, user, slash):
    post = PostFactory(owner=user)
    VoteFactory.create_batch(3, post=post)
    kept_vote = VoteFactory()

    response = auth_client.delete(f"/posts/{post.pk}{slash}")

    assert response.status_code == 204
    assert response.content == b""
    assert not Post.objects.filter(pk=post.pk).exists()
    assert list(Vote.objects.all()) == [kept_vote]
    assert auth_client.get(f"/posts/{post.pk}").status_code == 404


@SLASHES
def test_delete_by_non_owner_returns_403_and_keeps_post(other_client, user, slash):
    post = PostFactory(owner=user)
    VoteFactory(post=post)
    response = other_client.delete(f"/posts/{post.pk}{slash}")
    assert response.status_code == 403
    assert response.json() == FORBIDDEN
    assert Post.objects.filter(pk=post.pk).exists()
    assert Vote.objects.filter(post=post).count() == 1


def test_delete_other_users_draft_returns_404(other_client, user):
    draft = PostFactory(owner=user, published=False)
    response = other_client.delete(f"/posts/{draft.pk}")
    assert response.status_code == 404
    assert response.json() == not_found(draft.pk)
    assert Post.objects.filter(pk=draft.pk).exists()


@SLASHES
def test_delete_missing_post_returns_404(auth_client, slash):
    response = auth_client.delete(f"/posts/404{slash}")
    assert response.status_code == 404
    assert response.json() == not_found(404)


def test_delete_twice_returns_404_the_second_time(auth_client, user):
    post = PostFactory(owner=user)
    assert auth_client.delete(f"/posts/{post.pk}").status_code == 204
    response = auth_client.delete(f"/posts/{post.pk}")
    assert response.status_code == 404
    assert response.json() == not_found(post.pk)


@SLASHES
def test_delete_without_token_returns_401(api_client, slash):
    post = PostFactory()
    assert_unauthorized(api_client.delete(f"/posts/{post.pk}{slash}"))
    assert Post.objects.filter(pk=post.pk).exists()


# --- GET /posts/ -------------------------------------------------------------------------------


@SLASHES
def test_list_returns_post_out_items_newest_first(auth_client, slash):
    old, middle, new = aged_posts(3)
    VoteFactory.create_batch(2, post=middle)
    CommentFactory(post=old)

    response = auth_client.get(f"/posts{slash}")

    assert response.status_code == 200
    assert response.json() == [
        {"Post": post_shape(new), "votes": 0, "voted": False, "comments": 0},
        {"Post": post_shape(middle), "votes": 2, "voted": False, "comments": 0},
        {"Post": post_shape(old), "votes": 0, "voted": False, "comments": 1},
    ]


def test_list_breaks_created_at_ties_by_id_descending(auth_client):
    moment = timezone.now()
    first, second, third = PostFactory.create_batch(3, created_at=moment)
    older = PostFactory(created_at=moment - timedelta(seconds=1))
    assert ids(auth_client.get("/posts/")) == [third.pk, second.pk, first.pk, older.pk]


def test_list_orders_by_created_at_not_by_id(auth_client):
    now = timezone.now()
    newer = PostFactory(created_at=now)
    older = PostFactory(created_at=now - timedelta(hours=1))  # higher id, older post
    assert ids(auth_client.get("/posts/")) == [newer.pk, older.pk]


@SLASHES
def test_list_without_token_returns_401(api_client, slash):
    PostFactory()
    assert_unauthorized(api_client.get(f"/posts{slash}"))


def test_list_of_nothing_is_an_empty_list(auth_client):
    response = auth_client.get("/posts/")
    assert response.status_code == 200
    assert response.json() == []
    assert response["X-Total-Count"] == "0"
    assert "Link" not in response


def test_list_shows_own_drafts_but_not_other_users_drafts(auth_client, user, other_user):
    published = PostFactory(owner=other_user)
    own_draft = PostFactory(owner=user, published=False)
    PostFactory(owner=other_user, published=False)

    response = auth_client.get("/posts/")

    assert set(ids(response)) == {published.pk, own_draft.pk}
    assert response["X-Total-Count"] == "2"


def test_list_default_limit_is_10(auth_client):
    posts = aged_posts(12)
    response = auth_client.get("/posts/")
    assert ids(response) == [post.pk for post in reversed(posts)][:10]
    assert response["X-Total-Count"] == "12"


def test_list_limit_0_returns_an_empty_list(auth_client):
    aged_posts(3)
    response = auth_client.get("/posts/?limit=0")
    assert response.status_code == 200
    assert response.json() == []
    assert response["X-Total-Count"] == "3"


@pytest.mark.parametrize("limit", [101, 1000, 2**40])
def test_list_limit_above_100_counts_as_100(auth_client, limit):
    user = UserFactory()
    Post.objects.bulk_create(Post(title=f"p{n}", content="c", owner=user) for n in range(105))
    post_counts_rebuild()  # bulk_create passes by the models' counting
    response = auth_client.get(f"/posts/?limit={limit}")
    assert response.status_code == 200
    assert len(response.json()) == 100
    assert response["X-Total-Count"] == "105"
    assert 'limit=100&skip=100>; rel="next"' in response["Link"]


def test_list_pages_with_skip_and_limit(auth_client):
    newest_first = [post.pk for post in reversed(aged_posts(7))]
    pages = [ids(auth_client.get(f"/posts/?limit=3&skip={skip}")) for skip in (0, 3, 6)]
    assert pages == [newest_first[0:3], newest_first[3:6], newest_first[6:7]]


@pytest.mark.parametrize("skip", [5, 6, 100])
def test_list_skip_past_the_end_returns_an_empty_list(auth_client, skip):
    aged_posts(5)
    response = auth_client.get(f"/posts/?skip={skip}")
    assert response.status_code == 200
    assert response.json() == []
    assert response["X-Total-Count"] == "5"
    assert 'rel="next"' not in response.get("Link", "")


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("skip=-1", "skip"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("limit=1.5", "limit"),
        ("limit=5.0", "limit"),
        ("limit=%2B5", "limit"),
        ("limit=%205", "limit"),
        ("limit=", "limit"),
        ("skip=x", "skip"),
        (f"skip={2**64}", "skip"),
    ],
)
def test_list_bad_query_value_returns_422_with_query_loc(auth_client, query, param):
    PostFactory()
    assert_422(auth_client.get(f"/posts/?{query}"), ("query", param))


@pytest.mark.parametrize(
    ("query", "param"),
    [("limit=5&limit=6", "limit"), ("skip=0&skip=5", "skip"), ("search=a&search=b", "search")],
)
def test_list_with_a_query_parameter_given_twice_returns_422(auth_client, query, param):
    PostFactory()

    response = auth_client.get(f"/posts/?{query}")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["query", param], "msg": "Give this parameter once.", "type": "value_error"}
        ]
    }


def test_list_link_and_total_count_headers(auth_client):
    aged_posts(25)

    first = auth_client.get("/posts/?limit=10")
    middle = auth_client.get("/posts/?limit=10&skip=10")
    last = auth_client.get("/posts/?limit=10&skip=20")

    assert first["X-Total-Count"] == middle["X-Total-Count"] == last["X-Total-Count"] == "25"
    assert first["Link"] == '<http://testserver/posts/?limit=10&skip=10>; rel="next"'
    assert middle["Link"] == (
        '<http://testserver/posts/?limit=10&skip=20>; rel="next", '
        '<http://testserver/posts/?limit=10&skip=0>; rel="prev"'
    )
    assert last["Link"] == '<http://testserver/posts/?limit=10&skip=10>; rel="prev"'
    assert len(last.json()) == 5


def test_list_links_keep_the_search_and_never_go_below_zero(auth_client):
    aged_posts(6, title="match me")
    PostFactory(title="other")
    response = auth_client.get("/posts?search=match&limit=2&skip=1")
    assert response["X-Total-Count"] == "6"
    assert links(response) == {
        "next": ("/posts", {"search": ["match"], "limit": ["2"], "skip": ["3"]}),
        "prev": ("/posts", {"search": ["match"], "limit": ["2"], "skip": ["0"]}),
    }


def test_list_search_is_case_insensitive_title_substring(auth_client):
    match_upper = PostFactory(title="All About FASTAPI")
    match_lower = PostFactory(title="fastapi tips")
    PostFactory(title="Django", content="fastapi only in the content")

    response = auth_client.get("/posts/?search=FastApi")

    assert set(ids(response)) == {match_upper.pk, match_lower.pk}
    assert response["X-Total-Count"] == "2"


@pytest.mark.parametrize(
    ("search", "expected_title"),
    [("%25", "100% done"), ("_", "snake_case"), ("100%25", "100% done"), ("e_c", "snake_case")],
)
def test_list_search_treats_percent_and_underscore_literally(auth_client, search, expected_title):
    for title in ["100% done", "1000 done", "snake_case", "snakeXcase"]:
        PostFactory(title=title)
    response = auth_client.get(f"/posts/?search={search}")
    assert [item["Post"]["title"] for item in response.json()] == [expected_title]


def test_list_search_does_not_reveal_other_users_drafts(auth_client, other_user):
    PostFactory(owner=other_user, published=False, title="secret plan")
    response = auth_client.get("/posts/?search=secret")
    assert response.json() == []
    assert response["X-Total-Count"] == "0"


def test_list_search_with_a_null_character_returns_422(auth_client):
    assert_422(auth_client.get("/posts/?search=a%00"), ("query", "search"))


def test_list_empty_search_matches_everything(auth_client):
    aged_posts(3)
    assert len(auth_client.get("/posts/?search=").json()) == 3


def test_list_vote_counts_are_per_post(auth_client):
    quiet, popular = aged_posts(2)
    VoteFactory.create_batch(3, post=popular)
    VoteFactory(post=quiet)
    response = auth_client.get("/posts/")
    assert [item["votes"] for item in response.json()] == [3, 1]


@pytest.mark.parametrize("limit", [1, 10, 100])
def test_list_costs_at_most_three_queries_whatever_the_page_size(
    auth_client, user, django_assert_max_num_queries, limit
):
    owners = UserFactory.create_batch(5)
    posts = Post.objects.bulk_create(
        Post(title=f"post {n}", content="c", owner=owners[n % 5]) for n in range(120)
    )
    Vote.objects.bulk_create(Vote(user=voter, post=post) for voter in owners for post in posts)
    post_counts_rebuild()  # bulk_create passes by the models' counting
    Vote.objects.create(user=user, post=posts[-1])  # the newest: the caller liked it

    with django_assert_max_num_queries(3):
        response = auth_client.get(f"/posts/?limit={limit}")

    assert response.status_code == 200
    assert len(response.json()) == limit
    assert response["X-Total-Count"] == "120"
    assert [item["votes"] for item in response.json()] == [6] + [5] * (limit - 1)
    assert [item["voted"] for item in response.json()] == [True] + [False] * (limit - 1)


def test_list_with_search_costs_at_most_three_queries(auth_client, django_assert_max_num_queries):
    PostFactory.create_batch(15, title="findable")
    with django_assert_max_num_queries(3):
        response = auth_client.get("/posts/?search=FIND&limit=100")
    assert len(response.json()) == 15


@pytest.mark.parametrize(
    ("method", "path"), [("delete", "/posts/"), ("put", "/posts"), ("post", "/posts/1")]
)
def test_methods_a_path_lacks_return_405_json_even_without_token(api_client, method, path):
    response = getattr(api_client, method)(path)
    assert response.status_code == 405
    assert "detail" in response.json()


def test_json_nested_too_deep_returns_422(auth_client):
    body = '{"title": ' + "[" * 100_000 + "]" * 100_000 + ', "content": "c"}'
    response = auth_client.post("/posts/", body, content_type="application/json")
    assert response.status_code == 422
    assert not Post.objects.exists()


def test_bearer_scheme_is_case_insensitive(auth_client):
    token = auth_client._credentials["HTTP_AUTHORIZATION"].split()[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"bearer {token}")
    assert client.get("/posts/").status_code == 200
