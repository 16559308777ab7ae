"""The users endpoints: sign-up and the caller's own account (profiles: social/tests)."""

import threading
from datetime import datetime

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import User
from conftest import login

from .factories import PASSWORD, UserFactory

NEW_PASSWORD = "another-long-secret-42"


def user_body(user: User) -> dict:
    """The exact `User` shape the contract fixes for `user`."""
    return {
        "id": user.pk,
        "email": user.email,
        "created_at": user.created_at.isoformat().replace("+00:00", "Z"),
    }


def assert_user_shape(response, user: User) -> None:
    """The body is exactly `user` as a `User`, with no password or hash anywhere in it."""
    body = response.json()
    assert body == user_body(user)
    assert isinstance(body["id"], int)
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None
    assert user.password not in response.content.decode()
    assert "password" not in response.content.decode()


def signup(client: APIClient, email: str, password: str = PASSWORD, path: str = "/users/"):
    return client.post(path, {"email": email, "password": password}, format="json")


# POST /users/ ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/users/", "/users"])
def test_signup_returns_201_with_user_and_location_and_stores_hashed_password(db, path):
    response = signup(APIClient(), "new@example.com", path=path)

    assert response.status_code == 201, response.content
    user = User.objects.get()
    assert_user_shape(response, user)
    assert response["Location"] == f"/users/{user.pk}"
    assert user.email == "new@example.com"
    assert user.password != PASSWORD
    assert user.check_password(PASSWORD)
    assert user.is_active and not user.is_staff and not user.is_superuser


def test_signup_stores_email_as_given_with_domain_lowercased(db):
    response = signup(APIClient(), "Ann@EXAMPLE.COM")

    assert response.status_code == 201
    assert response.json()["email"] == "Ann@example.com"
    assert User.objects.get().email == "Ann@example.com"


def test_signup_with_taken_email_returns_409_and_keeps_one_row(user):
    response = signup(APIClient(), user.email, password="some-other-password-1")

    assert response.status_code == 409
    assert response.json() == {"detail": f"User with email: {user.email} already exists"}
    assert User.objects.count() == 1
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_second_signup_with_same_email_in_other_case_returns_409_and_keeps_one_row(db):
    client = APIClient()
    assert signup(client, "ann@example.com").status_code == 201

    response = signup(client, "ANN@Example.Com")

    assert response.status_code == 409
    assert response.json() == {"detail": "User with email: ANN@example.com already exists"}
    assert list(User.objects.values_list("email", flat=True)) == ["ann@example.com"]


def test_signup_with_invalid_email_returns_422_in_the_original_shape(db):
    response = signup(APIClient(), "not-an-email")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["body", "email"], "msg": "Enter a valid email address.", "type": "value_error"}
        ]
    }
    assert not User.objects.exists()


def test_signup_without_fields_returns_422_with_one_entry_per_missing_field(db):
    response = APIClient().post("/users/", {}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["body", "email"], "msg": "This field is required.", "type": "missing"},
            {"loc": ["body", "password"], "msg": "This field is required.", "type": "missing"},
        ]
    }
    assert not User.objects.exists()


def test_signup_with_too_long_email_returns_422(db):
    response = signup(APIClient(), "a" * 250 + "@example.com")

    assert response.status_code == 422
    assert [entry["loc"] for entry in response.json()["detail"]] == [["body", "email"]]
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "password, message",
    [
        ("Sh0rt!", "This password is too short. It must contain at least 8 characters."),
        ("password123", "This password is too common."),
        ("40938217356", "This password is entirely numeric."),
        ("marguerite.dupont", "The password is too similar to the email."),
    ],
)
def test_signup_with_password_rejected_by_validators_returns_422_and_creates_nothing(
    db, password, message
):
    response = signup(APIClient(), "marguerite.dupont@example.com", password=password)

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert {"loc": ["body", "password"], "msg": message, "type": "value_error"} in detail
    assert {tuple(entry["loc"]) for entry in detail} == {("body", "password")}
    assert not User.objects.exists()


def test_signup_with_a_number_for_the_password_is_a_422_and_creates_nothing(db):
    response = APIClient().post(
        "/users/", {"email": "n@example.com", "password": 40938217356123}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", "password"], "msg": "Not a valid string.", "type": "value_error"}
    ]
    assert not User.objects.exists()


def test_signup_with_invalid_email_and_weak_password_reports_both(db):
    response = signup(APIClient(), "nope", password="123")

    assert response.status_code == 422
    locs = [entry["loc"] for entry in response.json()["detail"]]
    assert ["body", "email"] in locs and ["body", "password"] in locs
    assert not User.objects.exists()


def test_signup_ignores_read_only_and_unknown_fields(db):
    response = APIClient().post(
        "/users/",
        {
            "email": "sneaky@example.com",
            "password": PASSWORD,
            "id": 424242,
            "created_at": "2000-01-01T00:00:00Z",
            "is_staff": True,
            "is_superuser": True,
            "is_active": False,
        },
        format="json",
    )

    assert response.status_code == 201
    user = User.objects.get()
    assert user.pk != 424242
    assert user.created_at.year != 2000
    assert user.is_active and not user.is_staff and not user.is_superuser
    assert_user_shape(response, user)


def test_signup_keeps_surrounding_spaces_of_the_password(db):
    client = APIClient()
    assert signup(client, "spaces@example.com", password=f"  {PASSWORD}  ").status_code == 201

    user = User.objects.get()
    assert user.check_password(f"  {PASSWORD}  ")
    assert not user.check_password(PASSWORD)


def test_signup_ignores_a_broken_authorization_header(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = signup(client, "fresh@example.com")

    assert response.status_code == 201
    assert User.objects.filter(email="fresh@example.com").exists()


def test_signed_up_user_can_log_in_and_read_their_profile(db):
    client = APIClient()
    signup(client, "Walker@Example.com")
    user = User.objects.get()

    tokens = login(client, user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    response = client.get("/users/me")

    assert response.status_code == 200
    assert response.json()["email"] == "Walker@example.com"  # a Profile: social/tests


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("precheck", ["real", "always-misses"])
def test_concurrent_signups_with_one_email_create_one_user_and_answer_409_to_the_rest(
    monkeypatch, precheck
):
    # Every thread has its own database connection. With the pre-check disabled every thread
    # reaches the INSERT, so the unique index on Lower(email) alone must settle the race.
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # Threads share the in-memory test database through SQLite's shared cache, whose table
        # locks fail at once instead of waiting: that says nothing about the file database.
        pytest.skip("needs a file-backed SQLite database or PostgreSQL")
    if precheck == "always-misses":
        monkeypatch.setattr(User.objects, "email_taken", lambda *args, **kwargs: False)
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    statuses: list[int] = []

    def sign_up(index: int) -> None:
        try:
            barrier.wait()
            email = "race@example.com" if index % 2 else "RACE@example.com"
            statuses.append(signup(APIClient(), email).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign_up, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] + [409] * (threads_count - 1)
    assert User.objects.count() == 1


# PATCH /users/me --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/users/me", "/users/me/"])
def test_patch_me_changes_the_email_with_its_domain_lowercased(auth_client, user, path):
    response = auth_client.patch(path, {"email": "Renamed@NEW.example"}, format="json")

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email == "Renamed@new.example"
    assert_user_shape(response, user)


def test_patch_me_to_an_email_taken_in_other_case_returns_409_and_changes_nothing(
    auth_client, user, other_user
):
    old_email = user.email

    response = auth_client.patch("/users/me", {"email": other_user.email.upper()}, format="json")

    assert response.status_code == 409
    assert response.json()["detail"].startswith("User with email: ")
    user.refresh_from_db()
    assert user.email == old_email
    assert User.objects.filter(email__iexact=other_user.email).count() == 1


def test_patch_me_to_own_email_in_other_case_returns_200(auth_client, user):
    local, domain = user.email.split("@")

    response = auth_client.patch("/users/me", {"email": f"{local.upper()}@{domain}"}, format="json")

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email == f"{local.upper()}@{domain}"


def test_patch_me_with_invalid_email_returns_422_and_changes_nothing(auth_client, user):
    old_email = user.email

    response = auth_client.patch("/users/me", {"email": "broken"}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["body", "email"], "msg": "Enter a valid email address.", "type": "value_error"}
        ]
    }
    user.refresh_from_db()
    assert user.email == old_email


def test_patch_me_with_null_email_returns_422(auth_client, user):
    response = auth_client.patch("/users/me", {"email": None}, format="json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "email"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("email=", "application/x-www-form-urlencoded"),
        (
            '--b\r\nContent-Disposition: form-data; name="email"\r\n\r\n\r\n--b--\r\n',
            "multipart/form-data; boundary=b",
        ),
    ],
    ids=["urlencoded", "multipart"],
)
def test_patch_me_with_an_empty_email_in_a_form_returns_422_and_changes_nothing(
    auth_client, user, body, content_type
):
    old_email = user.email

    response = auth_client.patch("/users/me", body, content_type=content_type)

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["body", "email"], "msg": "This field may not be blank.", "type": "value_error"}
        ]
    }
    user.refresh_from_db()
    assert user.email == old_email


def test_patch_me_ignores_read_only_and_unknown_fields(auth_client, user):
    old = user_body(user)

    response = auth_client.patch(
        "/users/me",
        {"id": 999, "created_at": "2000-01-01T00:00:00Z", "is_staff": True, "password": "x"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == old
    user.refresh_from_db()
    assert user_body(user) == old
    assert not user.is_staff
    assert user.check_password(PASSWORD)


def test_patch_me_without_a_token_returns_401(user):
    response = APIClient().patch("/users/me", {"email": "x@example.com"}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert User.objects.get().email == user.email


# POST /users/me/password ------------------------------------------------------------------


def change_password(client, current=PASSWORD, new=NEW_PASSWORD, path="/users/me/password"):
    return client.post(path, {"current_password": current, "new_password": new}, format="json")


@pytest.mark.parametrize("path", ["/users/me/password", "/users/me/password/"])
def test_password_change_returns_204_and_stores_the_new_hash(auth_client, user, path):
    old_hash = user.password

    response = change_password(auth_client, path=path)

    assert response.status_code == 204
    assert response.content == b""
    user.refresh_from_db()
    assert user.password != old_hash
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(PASSWORD)


def test_password_change_revokes_every_refresh_token_of_the_user_only(user, other_user):
    client = APIClient()
    login(client, user)
    tokens = login(client, user)
    login(client, other_user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")

    assert change_password(client).status_code == 204

    assert BlacklistedToken.objects.filter(token__user=user).count() == 2
    assert not BlacklistedToken.objects.filter(token__user=other_user).exists()
    assert OutstandingToken.objects.filter(user=other_user).count() == 1


def test_password_change_with_wrong_current_password_returns_403_and_changes_nothing(
    auth_client, user
):
    old_hash = user.password

    response = change_password(auth_client, current="not-my-password")

    assert response.status_code == 403
    assert response.json() == {"detail": "Current password is incorrect"}
    user.refresh_from_db()
    assert user.password == old_hash
    assert not BlacklistedToken.objects.exists()


@pytest.mark.parametrize(
    "new_password",
    ["short", "password123", "12345678901", "user-example-com"],
    ids=["too-short", "common", "numeric", "similar-to-email"],
)
def test_password_change_to_a_rejected_password_returns_422_and_changes_nothing(db, new_password):
    user = UserFactory(email="user-example-com@example.com")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(client, user)['access_token']}")
    old_hash = user.password

    response = change_password(client, new=new_password)

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail and all(entry["loc"] == ["body", "new_password"] for entry in detail)
    assert all(entry["type"] == "value_error" for entry in detail)
    user.refresh_from_db()
    assert user.password == old_hash
    assert not BlacklistedToken.objects.exists()


def test_password_change_without_fields_returns_422_for_each(auth_client, user):
    response = auth_client.post("/users/me/password", {}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "current_password"],
                "msg": "This field is required.",
                "type": "missing",
            },
            {"loc": ["body", "new_password"], "msg": "This field is required.", "type": "missing"},
        ]
    }


def test_password_change_without_a_token_returns_401_and_changes_nothing(user):
    old_hash = user.password

    response = change_password(APIClient())

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    user.refresh_from_db()
    assert user.password == old_hash
