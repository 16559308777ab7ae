"""API3 Excessive data exposure: no answer of any endpoint carries a secret or an internal field.

A tour of every operation, its successes and its errors, as a member, as the owner of a hidden
post and as staff, collects every JSON body. None may hold a password, its hash, a token's
secret counterpart, or the internal fields (`is_staff`, `is_superuser`, `is_active`,
`hidden_by`, `last_login`, ...). The documented response schemas may not name them either.
"""

import json

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory
from conftest import authorize, login
from moderation import services
from moderation.tests.factories import ReportFactory
from posts.tests.factories import PostFactory, VoteFactory

INTERNAL_FIELDS = {
    "password",
    "password_hash",
    "hash",
    "is_staff",
    "is_superuser",
    "is_active",
    "last_login",
    "groups",
    "user_permissions",
    "hidden_by",
    "hidden_by_id",
    "resolved_by",
    "resolved_by_id",
    "resolved_at",
    "jti",
}
SECRET = "Xyzzy-correct-horse-42"


def keys_in(value) -> set[str]:
    """Every object key anywhere in a JSON document."""
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in keys_in(item)}
    if isinstance(value, list):
        return {key for item in value for key in keys_in(item)}
    return set()


@pytest.fixture
def tour(db):
    """Call every operation in its success and error cases; return (label, response) pairs."""
    member = UserFactory()
    staff = UserFactory(is_staff=True)
    moderator = UserFactory(is_staff=True, is_superuser=True)
    own = PostFactory(owner=member)
    other = PostFactory(owner=staff)
    hidden = services.post_hide(post=PostFactory(owner=member), moderator=moderator, reason="spam")
    VoteFactory(user=staff, post=own)
    ReportFactory(reporter=staff, post=own)
    anonymous = APIClient()
    as_member = authorize(APIClient(), member)
    as_staff = authorize(APIClient(), staff)
    tokens = login(APIClient(), member)
    calls = [
        ("root", anonymous.get("/")),
        ("health", anonymous.get("/healthz")),
        ("signup", anonymous.post("/users/", {"email": "n@example.com", "password": SECRET})),
        ("signup-409", anonymous.post("/users/", {"email": member.email, "password": SECRET})),
        ("signup-422", anonymous.post("/users/", {"email": "bad", "password": "password"})),
        ("user", anonymous.get(f"/users/{member.pk}")),
        ("user-staff", anonymous.get(f"/users/{staff.pk}")),
        ("user-404", anonymous.get("/users/999999")),
        ("login", anonymous.post("/login", {"username": member.email, "password": PASSWORD})),
        ("login-403", anonymous.post("/login", {"username": member.email, "password": "no"})),
        ("login-422", anonymous.post("/login", {"password": SECRET})),
        ("refresh", anonymous.post("/token/refresh", {"refresh_token": tokens["refresh_token"]})),
        ("refresh-401", anonymous.post("/token/refresh", {"refresh_token": "x"})),
        ("me", as_member.get("/users/me")),
        ("me-staff", as_staff.get("/users/me")),
        ("me-401", anonymous.get("/users/me")),
        ("patch-me", as_member.patch("/users/me", {"email": member.email}, format="json")),
        ("patch-me-409", as_member.patch("/users/me", {"email": staff.email}, format="json")),
        ("list", as_member.get("/posts/")),
        ("list-staff", as_staff.get("/posts/")),
        ("list-422", as_member.get("/posts/?limit=x")),
        ("get", as_member.get(f"/posts/{own.pk}")),
        ("get-hidden-owner", as_member.get(f"/posts/{hidden.pk}")),
        ("get-hidden-staff", as_staff.get(f"/posts/{hidden.pk}")),
        ("get-404", as_staff.get("/posts/999999")),
        ("create", as_member.post("/posts/", {"title": "t", "content": "c"}, format="json")),
        ("create-422", as_member.post("/posts/", {"title": ""}, format="json")),
        ("put", as_member.put(f"/posts/{own.pk}", {"title": "t", "content": "c"}, format="json")),
        ("patch", as_member.patch(f"/posts/{hidden.pk}", {"title": "t"}, format="json")),
        ("put-403", as_member.put(f"/posts/{other.pk}", {"title": "t", "content": "c"})),
        ("vote", as_member.post("/vote/", {"post_id": other.pk, "dir": 1}, format="json")),
        ("vote-409", as_member.post("/vote/", {"post_id": other.pk, "dir": 1}, format="json")),
        ("report", as_member.post(f"/posts/{other.pk}/report", {"reason": "r"}, format="json")),
        ("report-409", as_member.post(f"/posts/{other.pk}/report", {"reason": "r"})),
        ("405", as_member.delete("/users/me")),
        ("404", anonymous.get("/no/such/path")),
        (
            "password-403",
            as_member.post(
                "/users/me/password", {"current_password": "no", "new_password": SECRET * 2}
            ),
        ),
        (
            "password-422",
            as_member.post(
                "/users/me/password", {"current_password": PASSWORD, "new_password": "123"}
            ),
        ),
        ("delete", as_member.delete(f"/posts/{own.pk}")),
        ("logout", as_member.post("/logout", {"refresh_token": tokens["refresh_token"]})),
    ]
    hashes = [user.password for user in (member, staff, moderator)]
    return calls, hashes


def test_the_tour_reaches_every_kind_of_answer(tour):
    calls, _ = tour
    statuses = {status // 100 for status in (response.status_code for _, response in calls)}
    assert statuses == {2, 4}
    assert {r.status_code for _, r in calls} >= {200, 201, 204, 401, 403, 404, 405, 409, 422}


def test_no_answer_carries_an_internal_field(tour):
    calls, _ = tour

    leaks = {
        label: sorted(keys_in(response.json()) & INTERNAL_FIELDS)
        for label, response in calls
        if response.content and keys_in(response.json()) & INTERNAL_FIELDS
    }

    assert leaks == {}


def test_no_answer_carries_a_password_or_its_hash(tour):
    calls, hashes = tour

    for label, response in calls:
        text = response.content.decode()
        assert SECRET not in text and PASSWORD not in text, label
        assert not any(password_hash in text for password_hash in hashes), label
        assert "md5$" not in text and "argon2" not in text and "pbkdf2" not in text, label


PROFILE = {"id", "email", "created_at", "posts_count", "followers_count", "following_count"}


def test_a_user_is_exactly_id_email_and_created_at_wherever_it_appears(tour):
    calls, _ = tour
    shapes = {
        "signup": lambda body: body,
        "get": lambda body: body["Post"]["owner"],
        "create": lambda body: body["owner"],
    }
    answers = dict(calls)

    for label, user_of in shapes.items():
        assert set(user_of(answers[label].json())) == {"id", "email", "created_at"}, label


def test_a_profile_is_a_user_with_counts_and_the_callers_relation_nothing_more(tour):
    calls, _ = tour
    answers = dict(calls)

    for label in ("user", "user-staff"):  # anonymous readers
        assert set(answers[label].json()) == PROFILE, label
    for label in ("me", "me-staff"):
        assert set(answers[label].json()) == PROFILE | {"following", "followed_by"}, label


def test_a_hidden_post_tells_owner_and_staff_why_but_not_who_hid_it(tour):
    calls, _ = tour
    answers = dict(calls)

    for label in ("get-hidden-owner", "get-hidden-staff"):
        body = answers[label].json()
        assert set(body) == {
            "Post",
            "votes",
            "voted",
            "comments",
            "hidden",
            "hidden_reason",
        }, label
        assert body["hidden"] is True and body["hidden_reason"] == "spam"


def test_the_documented_response_schemas_name_no_internal_field(api_client):
    schema = json.loads(api_client.get("/openapi.json").content)
    responses = {
        name: component
        for name, component in schema["components"]["schemas"].items()
        if not name.endswith("Request")  # request bodies: a password may go in, never out
    }

    named = {
        name: keys_in(component.get("properties", {})) for name, component in responses.items()
    }

    assert {
        name: keys & INTERNAL_FIELDS for name, keys in named.items() if keys & INTERNAL_FIELDS
    } == {}
