"""Every error is JSON with a `detail` key; invalid input is a 422 in the original API's shape."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from conftest import authorize, login

HTTP_METHODS = ["get", "post", "put", "patch", "delete"]


def assert_json_detail(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert "detail" in body
    return body


# Unknown paths and wrong methods ----------------------------------------------------------


@pytest.mark.parametrize("method", HTTP_METHODS)
@pytest.mark.parametrize("path", ["/nope", "/nope/", "/users/1/extra", "/users/me/password/x"])
def test_unknown_path_returns_404_json_for_every_method(db, method, path):
    response = getattr(APIClient(), method)(path)

    assert assert_json_detail(response, 404) == {"detail": "Not Found"}


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/users"),
        ("put", "/users/"),
        ("delete", "/users"),
        ("post", "/users/{id}"),
        ("delete", "/users/{id}/"),
        ("get", "/login"),
        ("put", "/login/"),
        ("get", "/token/refresh"),
        ("delete", "/token/refresh/"),
        ("post", "/"),
    ],
)
def test_wrong_method_returns_405_json(user, method, path):
    response = getattr(APIClient(), method)(path.format(id=user.pk))

    assert assert_json_detail(response, 405) == {
        "detail": f'Method "{method.upper()}" not allowed.'
    }


@pytest.mark.parametrize(
    "method, path",
    [
        ("post", "/users/me"),
        ("delete", "/users/me/"),
        ("get", "/users/me/password"),
        ("put", "/users/me/password/"),
        ("get", "/logout"),
        ("put", "/logout/"),
    ],
)
def test_wrong_method_on_an_authenticated_endpoint_returns_405_json(auth_client, method, path):
    response = getattr(auth_client, method)(path)

    assert assert_json_detail(response, 405) == {
        "detail": f'Method "{method.upper()}" not allowed.'
    }


@pytest.mark.parametrize(
    "method, path",
    [
        ("delete", "/users/me"),
        ("put", "/users/me/"),
        ("get", "/users/me/password"),
        ("delete", "/users/me/password/"),
        ("get", "/logout"),
        ("patch", "/logout/"),
    ],
)
def test_wrong_method_without_a_token_returns_405_before_asking_for_credentials(db, method, path):
    # The original matched the route, method included, before its auth dependency ran.
    response = getattr(APIClient(), method)(path)

    assert assert_json_detail(response, 405) == {
        "detail": f'Method "{method.upper()}" not allowed.'
    }
    assert "WWW-Authenticate" not in response
    assert method.upper() not in response["Allow"]


def test_root_welcomes_with_a_message(db):
    response = APIClient().get("/")

    assert response.status_code == 200
    assert isinstance(response.json()["message"], str)


def test_root_ignores_a_stale_token(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")

    response = client.get("/")

    assert response.status_code == 200
    assert isinstance(response.json()["message"], str)


# Malformed bodies -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/users/", "/login", "/token/refresh"])
def test_malformed_json_returns_422_json(db, path):
    response = APIClient().post(path, '{"email": "a@b.c", ', content_type="application/json")

    body = assert_json_detail(response, 422)
    [entry] = body["detail"]
    assert entry["loc"] == ["body"]
    assert entry["type"] == "json_invalid"
    assert entry["msg"].startswith("JSON parse error")
    assert not User.objects.exists()


@pytest.mark.parametrize("payload", ["[]", '"text"', "null", "42"])
def test_json_body_that_is_not_an_object_returns_422_about_the_body(db, payload):
    response = APIClient().post("/users/", payload, content_type="application/json")

    body = assert_json_detail(response, 422)
    assert [entry["loc"] for entry in body["detail"]] == [["body"]]
    assert not User.objects.exists()


@pytest.mark.parametrize("path", ["/users/", "/login", "/token/refresh"])
@pytest.mark.parametrize("opening, closing", [("[", "]"), ('{"a":', "}")])
def test_json_nested_too_deep_for_the_decoder_returns_422_not_500(db, path, opening, closing):
    client = APIClient()
    client.raise_request_exception = False
    depth = 100_000

    response = client.post(
        path, opening * depth + "1" + closing * depth, content_type="application/json"
    )

    body = assert_json_detail(response, 422)
    assert body["detail"] == [
        {"loc": ["body"], "msg": "JSON parse error - nesting too deep", "type": "json_invalid"}
    ]
    assert not User.objects.exists()


def test_body_that_is_not_utf8_returns_422(db):
    response = APIClient().post("/users/", b'{"email": "\xff"}', content_type="application/json")

    assert_json_detail(response, 422)


def test_unsupported_content_type_returns_415_json(db):
    response = APIClient().post("/users/", "email=a@b.c", content_type="text/plain")

    assert assert_json_detail(response, 415) == {
        "detail": 'Unsupported media type "text/plain" in request.'
    }


@pytest.mark.parametrize(
    "path, payload, field",
    [
        ("/users/", {"email": "nul\x00@example.com", "password": PASSWORD}, "email"),
        ("/login", {"username": "nul\x00@example.com", "password": PASSWORD}, "username"),
        ("/login", {"username": "a@example.com", "password": "pass\x00word"}, "password"),
    ],
)
def test_null_character_in_a_field_returns_422_not_500(db, path, payload, field):
    response = APIClient().post(path, payload, format="json")

    body = assert_json_detail(response, 422)
    null_error = {
        "loc": ["body", field],
        "msg": "Null characters are not allowed.",
        "type": "value_error",
    }
    assert null_error in body["detail"]
    assert all(entry["loc"] == ["body", field] for entry in body["detail"])
    assert not User.objects.exists()


def test_validation_error_has_the_original_shape(db):
    response = APIClient().post("/users/", {"email": "bad", "password": PASSWORD}, format="json")

    assert assert_json_detail(response, 422) == {
        "detail": [
            {"loc": ["body", "email"], "msg": "Enter a valid email address.", "type": "value_error"}
        ]
    }


def test_wrong_type_in_a_field_returns_422_naming_it(db):
    response = APIClient().post(
        "/users/", {"email": ["a@b.c"], "password": PASSWORD}, format="json"
    )

    body = assert_json_detail(response, 422)
    assert [entry["loc"] for entry in body["detail"]] == [["body", "email"]]


# Path ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["abc", "1e3", "0x10", "%00", "1.5"])
def test_non_integer_path_id_returns_422_at_path_id(db, raw):
    response = APIClient().get(f"/users/{raw}")

    body = assert_json_detail(response, 422)
    assert body == {
        "detail": [
            {"loc": ["path", "id"], "msg": "A valid integer is required.", "type": "value_error"}
        ]
    }


@pytest.mark.parametrize(
    "raw", ["9223372036854775808", "-9223372036854775809", "9" * 40, "9" * 2000]
)
def test_out_of_range_path_id_returns_422_not_500(db, raw):
    response = APIClient().get(f"/users/{raw}")

    body = assert_json_detail(response, 422)
    assert [entry["loc"] for entry in body["detail"]] == [["path", "id"]]


@pytest.mark.parametrize("raw", ["9223372036854775807", "0", "-1"])
def test_in_range_path_id_of_nobody_returns_404(db, raw):
    response = APIClient().get(f"/users/{raw}")

    assert assert_json_detail(response, 404) == {"detail": f"User with id: {raw} does not exist"}


# Trailing slashes -------------------------------------------------------------------------


def _signup(client, user, suffix):
    return client.post(
        f"/users{suffix}",
        {"email": f"new{len(suffix)}@example.com", "password": PASSWORD},
        format="json",
    )


def _get_user(client, user, suffix):
    return client.get(f"/users/{user.pk}{suffix}")


def _get_me(client, user, suffix):
    return authorize(client, user).get(f"/users/me{suffix}")


def _patch_me(client, user, suffix):
    return authorize(client, user).patch(
        f"/users/me{suffix}", {"email": "moved@example.com"}, format="json"
    )


def _change_password(client, user, suffix):
    return authorize(client, user).post(
        f"/users/me/password{suffix}",
        {"current_password": PASSWORD, "new_password": "a-new-long-secret-9"},
        format="json",
    )


def _login(client, user, suffix):
    return client.post(f"/login{suffix}", {"username": user.email, "password": PASSWORD})


def _refresh(client, user, suffix):
    tokens = login(client, user)
    return client.post(
        f"/token/refresh{suffix}", {"refresh_token": tokens["refresh_token"]}, format="json"
    )


def _logout(client, user, suffix):
    tokens = login(client, user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    return client.post(
        f"/logout{suffix}", {"refresh_token": tokens["refresh_token"]}, format="json"
    )


@pytest.mark.parametrize("suffix", ["", "/"], ids=["no-slash", "slash"])
@pytest.mark.parametrize(
    "call, status",
    [
        (_signup, 201),
        (_get_user, 200),
        (_get_me, 200),
        (_patch_me, 200),
        (_change_password, 204),
        (_login, 200),
        (_refresh, 200),
        (_logout, 204),
    ],
    ids=lambda value: value.__name__.strip("_") if callable(value) else str(value),
)
def test_every_accounts_endpoint_answers_with_and_without_trailing_slash(db, call, status, suffix):
    user = UserFactory()

    response = call(APIClient(), user, suffix)

    assert response.status_code == status, response.content
    assert "Location" not in response or response.status_code == 201


# The server's own failures ----------------------------------------------------------------


@pytest.fixture
def crashing_client(settings):
    settings.ROOT_URLCONF = "core.tests.urls"
    client = APIClient()
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize("path", ["/test/crash", "/test/api-crash"])
def test_unhandled_error_returns_500_json(crashing_client, settings, debug, path):
    settings.DEBUG = debug

    response = crashing_client.get(path)

    assert assert_json_detail(response, 500) == {"detail": "Internal Server Error"}


def test_suspicious_request_returns_400_json(crashing_client):
    response = crashing_client.get("/test/suspicious")

    assert assert_json_detail(response, 400) == {"detail": "Bad Request"}


def test_bad_request_handler_answers_json(crashing_client):
    # A Host outside ALLOWED_HOSTS fails in middleware, before any view: handler400 answers.
    response = crashing_client.get("/users/1", HTTP_HOST="evil.example")

    assert assert_json_detail(response, 400) == {"detail": "Bad Request"}


def test_disallowed_host_returns_400_json_with_the_project_urlconf(db):
    client = APIClient()
    client.raise_request_exception = False

    response = client.get("/users/1", HTTP_HOST="evil.example")

    assert assert_json_detail(response, 400) == {"detail": "Bad Request"}
