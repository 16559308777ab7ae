"""API2 Broken authentication: no unusable token opens any protected operation, or writes.

accounts/tests/test_api_tokens.py checks each kind of bad access token against GET /users/me
(expired, tampered payload, `alg: none`, wrong key, refresh token as access token, odd claims)
and the refresh and logout flows. This module takes the same tokens, and a few more, to every
operation that needs one: each answers 401 with `WWW-Authenticate: Bearer`, and nothing is
created, changed or deleted.
"""

import warnings
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from jwt.warnings import InsecureKeyLengthWarning
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.test_api_tokens import (
    assert_401,
    b64,
    claims,
    expired_access_token,
    tampered_access_token,
    unsigned_access_token,
    wrongly_keyed_access_token,
)
from accounts.tokens import UserRefreshToken
from conftest import login
from moderation.models import Report
from posts.models import Post, Vote
from posts.tests.factories import PostFactory

# Every operation that needs a token; `{id}` is a published post of someone else.
PROTECTED = [
    ("get", "/users/me", None),
    ("patch", "/users/me", {"email": "changed@example.com"}),
    ("post", "/users/me/password", {"current_password": PASSWORD, "new_password": "n3w-passw0rd!"}),
    ("post", "/logout", {"refresh_token": "REFRESH"}),
    ("get", "/posts/", None),
    ("post", "/posts/", {"title": "t", "content": "c"}),
    ("get", "/posts/{id}", None),
    ("put", "/posts/{id}", {"title": "t", "content": "c"}),
    ("patch", "/posts/{id}", {"title": "t"}),
    ("delete", "/posts/{id}", None),
    ("post", "/vote/", {"post_id": "ID", "dir": 1}),
    ("post", "/posts/{id}/report", {"reason": "r"}),
]


def operation_id(value):
    return f"{value[0].upper()} {value[1]}" if isinstance(value, tuple) else None


def signed_with(algorithm: str, key: str | None = None):
    def make(user: User) -> str:
        payload = claims(login(APIClient(), user)["access_token"])
        with warnings.catch_warnings():  # the test key is short for HS512, and need not be long
            warnings.simplefilter("ignore", InsecureKeyLengthWarning)
            return jwt.encode(
                payload, key or settings.SIMPLE_JWT["SIGNING_KEY"], algorithm=algorithm
            )

    return make


def alg_none_spelled(spelling: str):
    def make(user: User) -> str:
        payload = claims(login(APIClient(), user)["access_token"])
        return f"{b64({'alg': spelling, 'typ': 'JWT'})}.{b64(payload)}."

    return make


def without_signature(user: User) -> str:
    header, payload, _ = login(APIClient(), user)["access_token"].split(".")
    return f"{header}.{payload}."


def issued_before_a_password_change(user: User) -> str:
    token = login(APIClient(), user)["access_token"]
    user.set_password("a-brand-new-passphrase")
    user.save()
    return token


def of_a_deleted_user(user: User) -> str:
    ghost = UserFactory()
    token = login(APIClient(), ghost)["access_token"]
    ghost.delete()
    return token


def of_a_suspended_user(user: User) -> str:
    token = login(APIClient(), user)["access_token"]
    User.objects.filter(pk=user.pk).update(is_active=False)
    return token


def expired_a_second_ago(user: User) -> str:
    return expired_access_token(user)


def naming_another_user_unsigned(user: User) -> str:
    payload = {**claims(login(APIClient(), user)["access_token"]), "user_id": user.pk + 1}
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."


BAD_TOKENS = {
    "expired": expired_a_second_ago,
    "tampered-payload": lambda user: tampered_access_token(user, UserFactory()),
    "alg-none": unsigned_access_token,
    "alg-None": alg_none_spelled("None"),
    "alg-NONE": alg_none_spelled("NONE"),
    "alg-none-other-user": naming_another_user_unsigned,
    "no-signature": without_signature,
    "wrong-key": wrongly_keyed_access_token,
    "hs512-right-key": signed_with("HS512"),
    "refresh-as-access": lambda user: login(APIClient(), user)["refresh_token"],
    "before-password-change": issued_before_a_password_change,
    "deleted-user": of_a_deleted_user,
    "suspended-user": of_a_suspended_user,
}


@pytest.fixture
def target(other_user):
    return PostFactory(owner=other_user, title="Untouched")


@pytest.mark.parametrize("make_token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
@pytest.mark.parametrize("operation", PROTECTED, ids=operation_id)
def test_every_protected_operation_refuses_an_unusable_token_and_writes_nothing(
    user, target, operation, make_token
):
    method, path, body = operation
    refresh = login(APIClient(), user)["refresh_token"]
    token = make_token(user)
    if body and body.get("refresh_token"):
        body = {"refresh_token": refresh}
    if body and body.get("post_id"):
        body = {**body, "post_id": target.pk}
    snapshot = (
        list(User.objects.order_by("pk").values_list("pk", "email", "password", "is_active")),
        list(Post.objects.order_by("pk").values_list("pk", "title", "owner_id")),
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = getattr(client, method)(path.format(id=target.pk), body, format="json")

    assert_401(response)
    assert response.json() == {"detail": "Could not validate credentials"}
    assert snapshot == (
        list(User.objects.order_by("pk").values_list("pk", "email", "password", "is_active")),
        list(Post.objects.order_by("pk").values_list("pk", "title", "owner_id")),
    )
    assert not Vote.objects.exists() and not Report.objects.exists()


@pytest.mark.parametrize("operation", PROTECTED, ids=operation_id)
def test_every_protected_operation_without_a_token_is_401_not_authenticated(db, target, operation):
    method, path, body = operation

    response = getattr(APIClient(), method)(path.format(id=target.pk), body, format="json")

    assert_401(response)
    assert response.json() == {"detail": "Not authenticated"}


def test_a_token_naming_a_user_id_that_was_deleted_and_never_reused_stays_refused(db):
    # Ids are not reused (PostgreSQL sequences, SQLite AUTOINCREMENT): a new sign-up never
    # inherits a deleted user's old tokens.
    ghost = UserFactory()
    token = login(APIClient(), ghost)["access_token"]
    ghost_id = ghost.pk
    ghost.delete()
    newcomer = UserFactory()

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert newcomer.pk != ghost_id
    assert_401(client.get("/users/me"))


def test_a_refresh_token_cannot_be_minted_with_a_longer_life(user):
    refresh = UserRefreshToken.for_user(user)
    refresh.set_exp(lifetime=timedelta(days=3650))
    forged = jwt.encode(dict(refresh.payload), "not-our-key-but-long-enough-to-sign-with", "HS256")

    response = APIClient().post("/token/refresh", {"refresh_token": forged}, format="json")

    assert response.status_code == 401
    assert "access_token" not in response.json()
