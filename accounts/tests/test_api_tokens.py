"""Tokens over HTTP: login, bearer authentication, refresh rotation, logout, revocation."""

import base64
import json
import threading
from datetime import timedelta
from urllib.parse import urlencode

import jwt
import pytest
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection, connections
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import User
from accounts.tokens import UserRefreshToken
from conftest import login

from .factories import PASSWORD, UserFactory

TOKEN_KEYS = {"access_token", "token_type", "refresh_token", "expires_in"}


def claims(token: str) -> dict:
    """The verified payload of a token we issued."""
    return jwt.decode(token, settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"])


def bearer(token: str, scheme: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
    return client


def assert_401(response) -> None:
    """The contract's answer to any unusable credential."""
    assert response.status_code == 401, response.content
    body = response.json()
    assert list(body) == ["detail"] and isinstance(body["detail"], str)
    assert response["WWW-Authenticate"] == "Bearer"


def assert_token_pair(response, user: User) -> dict:
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == TOKEN_KEYS
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1800
    assert claims(body["access_token"])["user_id"] == user.pk
    assert claims(body["refresh_token"])["user_id"] == user.pk
    assert user.password not in response.content.decode()
    return body


def refresh(token: str, path: str = "/token/refresh"):
    return APIClient().post(path, {"refresh_token": token}, format="json")


def b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# POST /login ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/login/"])
def test_login_with_urlencoded_form_returns_a_token_pair_and_records_the_refresh_token(user, path):
    response = APIClient().post(
        path,
        urlencode({"username": user.email, "password": PASSWORD, "grant_type": "password"}),
        content_type="application/x-www-form-urlencoded",
    )

    body = assert_token_pair(response, user)
    outstanding = OutstandingToken.objects.get()
    assert outstanding.user == user
    assert outstanding.jti == claims(body["refresh_token"])["jti"]
    assert not BlacklistedToken.objects.exists()


def test_login_with_multipart_form_returns_a_token_pair(user):
    response = APIClient().post(
        "/login", {"username": user.email, "password": PASSWORD}, format="multipart"
    )

    assert_token_pair(response, user)
    assert OutstandingToken.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("field", ["username", "email"])
def test_login_with_json_accepts_username_or_email(user, field):
    response = APIClient().post("/login", {field: user.email, "password": PASSWORD}, format="json")

    assert_token_pair(response, user)


def test_login_matches_the_email_case_insensitively(db):
    user = UserFactory(email="Mixed.Case@example.com")

    response = APIClient().post(
        "/login", {"username": "mixed.case@EXAMPLE.COM", "password": PASSWORD}, format="json"
    )

    assert_token_pair(response, user)


def test_login_costs_at_most_two_queries(user, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        response = APIClient().post("/login", {"username": user.email, "password": PASSWORD})

    assert response.status_code == 200


@pytest.mark.parametrize(
    "username, password",
    [("{email}", "wrong-password"), ("nobody@example.com", PASSWORD), ("{email}", "")],
    ids=["wrong-password", "unknown-email", "empty-password"],
)
def test_login_with_bad_credentials_returns_403_invalid_credentials_and_issues_nothing(
    user, username, password
):
    response = APIClient().post(
        "/login", {"username": username.format(email=user.email), "password": password}
    )

    if password:
        assert response.status_code == 403
        assert response.json() == {"detail": "Invalid Credentials"}
    else:
        assert response.status_code == 422  # a blank field is a validation error
    assert not OutstandingToken.objects.exists()


def test_login_hashes_once_for_an_unknown_email_as_for_a_wrong_password(user, monkeypatch):
    # Same work on both paths, so response time does not tell which emails are registered.
    calls = []
    original = MD5PasswordHasher.encode
    monkeypatch.setattr(
        MD5PasswordHasher, "encode", lambda *args: calls.append(1) or original(*args)
    )

    APIClient().post("/login", {"username": user.email, "password": "wrong-password"})
    wrong_password_hashes = len(calls)
    APIClient().post("/login", {"username": "nobody@example.com", "password": "wrong-password"})

    assert wrong_password_hashes == 1
    assert len(calls) - wrong_password_hashes == 1


def test_login_of_a_suspended_user_returns_403_invalid_credentials(db):
    user = UserFactory(is_active=False)

    response = APIClient().post("/login", {"username": user.email, "password": PASSWORD})

    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid Credentials"}
    assert not OutstandingToken.objects.exists()


def test_login_without_password_returns_422_naming_the_field(user):
    response = APIClient().post("/login", {"username": user.email}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["body", "password"], "msg": "This field is required.", "type": "missing"}
        ]
    }


def test_login_without_username_returns_422_naming_the_field(db):
    response = APIClient().post("/login", {"password": PASSWORD})

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["body", "username"], "msg": "This field is required.", "type": "missing"}
        ]
    }


@pytest.mark.parametrize("body", [{}, {"password": 5}], ids=["nothing", "a number"])
def test_login_with_neither_field_right_lists_both_problems(db, body):
    response = APIClient().post("/login", body, format="json")

    assert response.status_code == 422
    assert [entry["loc"] for entry in response.json()["detail"]] == [
        ["body", "username"],
        ["body", "password"],
    ]
    assert response.json()["detail"][0]["type"] == "missing"


@pytest.mark.parametrize("field", ["username", "email", "password"])
def test_login_with_a_number_for_text_is_a_422_not_a_failed_login(user, field):
    body = {"username": user.email, "password": PASSWORD, field: 5}
    if field == "email":
        del body["username"]

    response = APIClient().post("/login", body, format="json")

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", field], "msg": "Not a valid string.", "type": "value_error"}
    ]
    assert not OutstandingToken.objects.exists()


def test_login_ignores_a_broken_authorization_header(user):
    client = bearer("garbage")

    response = client.post("/login", {"username": user.email, "password": PASSWORD})

    assert_token_pair(response, user)


# The access token -------------------------------------------------------------------------


def test_access_token_is_hs256_with_integer_user_id_and_30_minute_exp(user):
    tokens = login(APIClient(), user)

    header = jwt.get_unverified_header(tokens["access_token"])
    payload = claims(tokens["access_token"])
    assert header["alg"] == "HS256"
    assert type(payload["user_id"]) is int and payload["user_id"] == user.pk
    assert payload["token_type"] == "access"
    assert payload["exp"] - payload["iat"] == tokens["expires_in"] == 1800


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_access_token_authenticates_with_any_case_of_the_bearer_scheme(user, scheme):
    tokens = login(APIClient(), user)

    response = bearer(tokens["access_token"], scheme).get("/users/me")

    assert response.status_code == 200
    assert response.json()["id"] == user.pk


def expired_access_token(user: User) -> str:
    access = UserRefreshToken.for_user(user).access_token
    access.set_exp(lifetime=-timedelta(seconds=1))
    return str(access)


def tampered_access_token(user: User, other: User) -> str:
    token = login(APIClient(), user)["access_token"]
    header, _, signature = token.split(".")
    payload = {**claims(token), "user_id": other.pk}
    return f"{header}.{b64(payload)}.{signature}"


def unsigned_access_token(user: User) -> str:
    payload = claims(login(APIClient(), user)["access_token"])
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."


def wrongly_keyed_access_token(user: User) -> str:
    payload = claims(login(APIClient(), user)["access_token"])
    return jwt.encode(payload, "a-different-key-that-is-long-enough-to-sign", algorithm="HS256")


def signed(payload_change: dict):
    def make(user: User) -> str:
        payload = claims(login(APIClient(), user)["access_token"])
        payload.update(payload_change)
        for key in [k for k, v in payload.items() if v is None]:
            del payload[key]
        return jwt.encode(payload, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")

    return make


@pytest.mark.parametrize(
    "make_token",
    [
        expired_access_token,
        lambda user: tampered_access_token(user, UserFactory()),
        unsigned_access_token,
        wrongly_keyed_access_token,
        lambda user: login(APIClient(), user)["refresh_token"],
        lambda user: "not.a.jwt",
        signed({"exp": None}),
        signed({"user_id": None}),
        signed({"user_id": "abc"}),
        signed({"user_id": 2**70}),
        signed({"user_id": 1.0}),
        signed({"user_id": True}),
        signed({"token_type": None}),
    ],
    ids=[
        "expired",
        "tampered-payload",
        "alg-none",
        "wrong-key",
        "refresh-token-as-access",
        "garbage",
        "no-exp",
        "no-user-id",
        "non-integer-user-id",
        "out-of-range-user-id",
        "float-user-id",
        "boolean-user-id",
        "no-token-type",
    ],
)
def test_unusable_access_token_returns_401_with_bearer_challenge(user, make_token):
    response = bearer(make_token(user)).get("/users/me")

    assert_401(response)


def test_access_token_with_simplejwts_string_user_id_still_authenticates(user):
    token = signed({"user_id": str(user.pk)})(user)

    response = bearer(token).get("/users/me")

    assert response.status_code == 200
    assert response.json()["id"] == user.pk


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "bearer  "])
def test_malformed_bearer_header_returns_401(user, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert_401(client.get("/users/me"))


def test_other_authorization_scheme_counts_as_no_credentials(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")

    response = client.get("/users/me")

    assert_401(response)
    assert response.json() == {"detail": "Not authenticated"}


def test_access_token_of_a_suspended_user_stops_working_on_the_next_request(auth_client, user):
    assert auth_client.get("/users/me").status_code == 200

    User.objects.filter(pk=user.pk).update(is_active=False)

    assert_401(auth_client.get("/users/me"))


def test_access_token_of_a_deleted_user_returns_401(auth_client, user):
    user.delete()

    assert_401(auth_client.get("/users/me"))


# POST /token/refresh ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/token/refresh", "/token/refresh/"])
def test_refresh_rotates_the_pair_and_revokes_the_old_refresh_token(user, path):
    old = login(APIClient(), user)

    response = refresh(old["refresh_token"], path=path)

    new = assert_token_pair(response, user)
    assert new["refresh_token"] != old["refresh_token"]
    old_jti = claims(old["refresh_token"])["jti"]
    new_jti = claims(new["refresh_token"])["jti"]
    assert BlacklistedToken.objects.filter(token__jti=old_jti).exists()
    assert OutstandingToken.objects.filter(jti=new_jti, user=user).exists()
    assert not BlacklistedToken.objects.filter(token__jti=new_jti).exists()
    assert bearer(new["access_token"]).get("/users/me").status_code == 200


def test_reusing_a_rotated_refresh_token_returns_401_and_issues_nothing(user):
    old = login(APIClient(), user)
    new = refresh(old["refresh_token"]).json()
    outstanding = OutstandingToken.objects.count()

    response = refresh(old["refresh_token"])

    assert_401(response)
    assert OutstandingToken.objects.count() == outstanding
    assert refresh(new["refresh_token"]).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_rotate_it_once():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # The in-memory test database's shared-cache table locks fail instead of waiting.
        pytest.skip("needs a file-backed SQLite database or PostgreSQL")
    user = UserFactory()
    token = login(APIClient(), user)["refresh_token"]
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    statuses: list[int] = []

    def rotate() -> None:
        try:
            barrier.wait()
            statuses.append(refresh(token).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rotate) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] + [401] * (threads_count - 1)
    assert OutstandingToken.objects.filter(user=user).count() == 2
    assert BlacklistedToken.objects.count() == 1


def test_refresh_with_an_expired_refresh_token_returns_401(user):
    token = UserRefreshToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))

    assert_401(refresh(str(token)))


@pytest.mark.parametrize(
    "make_token",
    [
        lambda user: login(APIClient(), user)["access_token"],
        lambda user: "garbage",
        lambda user: jwt.encode(
            claims(login(APIClient(), user)["refresh_token"]),
            "a-different-key-that-is-long-enough-to-sign",
            algorithm="HS256",
        ),
    ],
    ids=["access-token", "garbage", "wrong-key"],
)
def test_refresh_with_an_invalid_token_returns_401(user, make_token):
    token = make_token(user)
    outstanding = OutstandingToken.objects.count()

    assert_401(refresh(token))
    assert OutstandingToken.objects.count() == outstanding


def signed_refresh_token(user: User, **changes) -> str:
    payload = claims(login(APIClient(), user)["refresh_token"])
    payload.update(changes)
    return jwt.encode(payload, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")


@pytest.mark.parametrize("user_id", ["abc", 1.0, True, None, [1], 2**70, -1])
def test_refresh_with_a_signed_token_naming_no_valid_user_id_returns_401(user, user_id):
    token = signed_refresh_token(user, user_id=user_id)

    assert_401(refresh(token))
    assert OutstandingToken.objects.count() == 1
    assert not BlacklistedToken.objects.exists()


def test_refresh_accepts_simplejwts_own_string_user_id(user):
    tokens = login(APIClient(), user)
    payload = claims(tokens["refresh_token"])
    OutstandingToken.objects.filter(jti=payload["jti"]).update(token="")
    token = jwt.encode(
        {**payload, "user_id": str(user.pk)}, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256"
    )

    assert_token_pair(refresh(token), user)


def test_refresh_after_a_password_change_outside_the_api_returns_401(user):
    # The admin and `manage.py changepassword` set the password without revoking tokens.
    tokens = login(APIClient(), user)
    user.set_password("set-by-an-admin-123")
    user.save()

    assert_401(refresh(tokens["refresh_token"]))
    assert_401(bearer(tokens["access_token"]).get("/users/me"))
    assert OutstandingToken.objects.count() == 1


def test_refresh_for_a_suspended_user_returns_401_and_issues_nothing(user):
    tokens = login(APIClient(), user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert_401(refresh(tokens["refresh_token"]))
    assert OutstandingToken.objects.count() == 1


def test_refresh_for_a_deleted_user_returns_401(user):
    tokens = login(APIClient(), user)
    user.delete()

    assert_401(refresh(tokens["refresh_token"]))


def test_refresh_without_the_field_returns_422(db):
    response = APIClient().post("/token/refresh", {}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["body", "refresh_token"], "msg": "This field is required.", "type": "missing"}
        ]
    }


# POST /logout -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/logout", "/logout/"])
def test_logout_returns_204_and_revokes_the_refresh_token(user, path):
    tokens = login(APIClient(), user)
    client = bearer(tokens["access_token"])

    response = client.post(path, {"refresh_token": tokens["refresh_token"]}, format="json")

    assert response.status_code == 204
    assert response.content == b""
    jti = claims(tokens["refresh_token"])["jti"]
    assert BlacklistedToken.objects.filter(token__jti=jti).exists()
    assert_401(refresh(tokens["refresh_token"]))


def test_logout_leaves_the_users_other_sessions_alone(user):
    first = login(APIClient(), user)
    second = login(APIClient(), user)

    bearer(first["access_token"]).post(
        "/logout", {"refresh_token": first["refresh_token"]}, format="json"
    )

    assert BlacklistedToken.objects.count() == 1
    assert refresh(second["refresh_token"]).status_code == 200


def test_logout_twice_with_one_refresh_token_returns_401(user):
    tokens = login(APIClient(), user)
    client = bearer(tokens["access_token"])
    client.post("/logout", {"refresh_token": tokens["refresh_token"]}, format="json")

    response = client.post("/logout", {"refresh_token": tokens["refresh_token"]}, format="json")

    assert_401(response)
    assert BlacklistedToken.objects.count() == 1


def test_logout_without_an_access_token_returns_401_and_revokes_nothing(user):
    tokens = login(APIClient(), user)

    response = APIClient().post(
        "/logout", {"refresh_token": tokens["refresh_token"]}, format="json"
    )

    assert_401(response)
    assert not BlacklistedToken.objects.exists()


def test_logout_with_someone_elses_refresh_token_returns_403_and_revokes_nothing(user, other_user):
    mine = login(APIClient(), user)
    theirs = login(APIClient(), other_user)

    response = bearer(mine["access_token"]).post(
        "/logout", {"refresh_token": theirs["refresh_token"]}, format="json"
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "Not authorized to perform requested action"}
    assert not BlacklistedToken.objects.exists()


def test_logout_accepts_a_refresh_token_with_simplejwts_string_user_id(user):
    tokens = login(APIClient(), user)
    payload = claims(tokens["refresh_token"])
    token = jwt.encode(
        {**payload, "user_id": str(user.pk)}, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256"
    )

    response = bearer(tokens["access_token"]).post(
        "/logout", {"refresh_token": token}, format="json"
    )

    assert response.status_code == 204
    assert BlacklistedToken.objects.filter(token__jti=payload["jti"]).exists()


def test_logout_with_an_invalid_refresh_token_returns_401(auth_client):
    response = auth_client.post("/logout", {"refresh_token": "garbage"}, format="json")

    assert_401(response)


@pytest.mark.parametrize("path", ["/token/refresh", "/logout"])
def test_a_refresh_token_that_is_not_text_is_a_422(auth_client, path):
    response = auth_client.post(path, {"refresh_token": 5}, format="json")

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", "refresh_token"], "msg": "Not a valid string.", "type": "value_error"}
    ]


def test_logout_without_the_field_returns_422(auth_client):
    response = auth_client.post("/logout", {}, format="json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "refresh_token"]


# Password change and revocation ---------------------------------------------------------


def test_password_change_revokes_refresh_tokens_and_stops_the_old_access_token(user):
    first = login(APIClient(), user)
    second = login(APIClient(), user)
    client = bearer(second["access_token"])

    response = client.post(
        "/users/me/password",
        {"current_password": PASSWORD, "new_password": "a-brand-new-secret-77"},
        format="json",
    )

    assert response.status_code == 204
    assert BlacklistedToken.objects.filter(token__user=user).count() == 2
    assert_401(client.get("/users/me"))
    assert_401(bearer(first["access_token"]).get("/users/me"))
    assert_401(refresh(first["refresh_token"]))
    assert_401(refresh(second["refresh_token"]))
    stale = APIClient().post("/login", {"username": user.email, "password": PASSWORD})
    assert stale.status_code == 403
    fresh = APIClient().post(
        "/login", {"username": user.email, "password": "a-brand-new-secret-77"}
    )
    user.refresh_from_db()
    tokens = assert_token_pair(fresh, user)
    assert bearer(tokens["access_token"]).get("/users/me").status_code == 200
