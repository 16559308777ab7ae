"""Bad input of every kind, on every endpoint that reads it: a clean 4xx in JSON, nothing written.

test_errors.py has the first case of each kind (one endpoint); this module sweeps them over the
whole API: wrong content types, malformed and non-object JSON, bodies over the size limit, bytes
that are not UTF-8 in bodies, query strings and paths, null characters and lone surrogates in
every string field, and ids in every `{id}` path that are negative, huge or not numbers.
"""

import json

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from moderation.models import Report
from posts.models import Post, Vote
from posts.tests.factories import PostFactory

from .test_errors import assert_json_detail

pytestmark = pytest.mark.django_db

# Every operation that reads a body, as (method, path); `{id}` is the caller's own post.
BODY_OPERATIONS = [
    ("post", "/users/"),
    ("patch", "/users/me"),
    ("post", "/users/me/password"),
    ("post", "/login"),
    ("post", "/token/refresh"),
    ("post", "/logout"),
    ("post", "/posts/"),
    ("put", "/posts/{id}"),
    ("patch", "/posts/{id}"),
    ("post", "/vote/"),
    ("post", "/posts/{id}/report"),
]
# Every operation with an `{id}` in its path.
ID_OPERATIONS = [
    ("get", "/users/{id}"),
    ("get", "/posts/{id}"),
    ("put", "/posts/{id}"),
    ("patch", "/posts/{id}"),
    ("delete", "/posts/{id}"),
    ("post", "/posts/{id}/report"),
]
# A valid body for each string field, and where a bad value of it is reported.
STRING_FIELDS = [
    ("post", "/users/", {"email": "new@example.com", "password": "a-long-passphrase"}, "email"),
    ("post", "/users/", {"email": "new@example.com", "password": "a-long-passphrase"}, "password"),
    ("patch", "/users/me", {"email": "new@example.com"}, "email"),
    ("post", "/users/me/password", {"current_password": "x", "new_password": "y"}, "new_password"),
    ("post", "/login", {"username": "a@example.com", "password": "x"}, "username"),
    ("post", "/login", {"email": "a@example.com", "password": "x"}, "email"),
    ("post", "/login", {"username": "a@example.com", "password": "x"}, "password"),
    ("post", "/token/refresh", {"refresh_token": "x"}, "refresh_token"),
    ("post", "/logout", {"refresh_token": "x"}, "refresh_token"),
    ("post", "/posts/", {"title": "t", "content": "c"}, "title"),
    ("post", "/posts/", {"title": "t", "content": "c"}, "content"),
    ("put", "/posts/{id}", {"title": "t", "content": "c"}, "title"),
    ("patch", "/posts/{id}", {"content": "c"}, "content"),
    ("post", "/posts/{id}/report", {"reason": "r"}, "reason"),
]


def operation_id(value):
    if isinstance(value, tuple):
        return f"{value[0].upper()} {value[1]}"
    return None


@pytest.fixture
def own_post(user):
    return PostFactory(owner=user, title="Kept", content="As it was")


@pytest.fixture
def client(auth_client):
    """The post owner's client; public endpoints ignore its token."""
    auth_client.raise_request_exception = False
    return auth_client


@pytest.fixture
def unchanged(user, own_post):
    """Call it after the request: nothing was created, changed or deleted."""
    password = user.password

    def check():
        assert User.objects.count() == 1
        assert User.objects.get().email == user.email
        assert User.objects.get().password == password
        assert list(Post.objects.values_list("pk", "title", "content", "published")) == [
            (own_post.pk, "Kept", "As it was", True)
        ]
        assert not Vote.objects.exists()
        assert not Report.objects.exists()

    return check


def send(client, method, path, post, body, content_type):
    return getattr(client, method)(path.format(id=post.pk), body, content_type=content_type)


# Content types ----------------------------------------------------------------------------


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "text/html"])
def test_a_body_in_an_unsupported_content_type_returns_415_json(
    client, own_post, unchanged, operation, content_type
):
    method, path = operation

    response = send(client, method, path, own_post, "<title>x</title>", content_type)

    assert assert_json_detail(response, 415) == {
        "detail": f'Unsupported media type "{content_type}" in request.'
    }
    unchanged()


# Malformed JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize(
    "raw",
    ['{"title": ', "{'title': 'single quotes'}", '{"a": 1} trailing', "NaN", '{"a": Infinity}'],
)
def test_malformed_json_returns_422_about_the_body(client, own_post, unchanged, operation, raw):
    method, path = operation

    response = send(client, method, path, own_post, raw, "application/json")

    [entry] = assert_json_detail(response, 422)["detail"]
    assert entry["loc"] == ["body"] and entry["type"] == "json_invalid"
    assert entry["msg"].startswith("JSON parse error")
    unchanged()


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize("raw", ["[]", "[{}]", "1", '"text"', "null", "true"])
def test_json_body_that_is_not_an_object_returns_422_about_the_body(
    client, own_post, unchanged, operation, raw
):
    method, path = operation

    response = send(client, method, path, own_post, raw, "application/json")

    body = assert_json_detail(response, 422)
    assert [entry["loc"] for entry in body["detail"]] == [["body"]]
    unchanged()


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
def test_json_nested_too_deep_returns_422_on_every_endpoint(client, own_post, unchanged, operation):
    method, path = operation
    depth = 100_000

    response = send(client, method, path, own_post, "[" * depth + "]" * depth, "application/json")

    assert assert_json_detail(response, 422)["detail"] == [
        {"loc": ["body"], "msg": "JSON parse error - nesting too deep", "type": "json_invalid"}
    ]
    unchanged()


# Bodies over the size limit ---------------------------------------------------------------


def oversized(content_type: str, size: int) -> bytes:
    filler = b"a" * size
    if content_type == "application/json":
        return b'{"title": "' + filler + b'", "content": "x"}'
    if content_type == "application/x-www-form-urlencoded":
        return b"title=" + filler + b"&content=x"
    return (
        b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\n' + filler + b"\r\n--b--\r\n"
    )


FORMATS = {
    "application/json": "application/json",
    "application/x-www-form-urlencoded": "application/x-www-form-urlencoded",
    "multipart/form-data": "multipart/form-data; boundary=b",
}


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize("media_type", list(FORMATS))
def test_body_over_the_configured_size_returns_413_json(
    client, own_post, unchanged, settings, operation, media_type
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    method, path = operation

    response = send(
        client, method, path, own_post, oversized(media_type, 10_001), FORMATS[media_type]
    )

    assert assert_json_detail(response, 413) == {"detail": "Request body too large"}
    unchanged()


def test_body_over_the_default_size_of_2_5_mb_returns_413_json(client, own_post, unchanged):
    body = oversized("application/json", 2_621_440)

    response = client.post("/posts/", body, content_type="application/json")

    assert assert_json_detail(response, 413) == {"detail": "Request body too large"}
    unchanged()


def test_body_under_the_size_limit_is_read_and_validated(client, own_post, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    response = client.post(
        "/posts/", oversized("application/json", 9_000), content_type="application/json"
    )

    body = assert_json_detail(response, 422)
    assert [entry["loc"] for entry in body["detail"]] == [["body", "title"]]


def test_form_with_more_fields_than_allowed_returns_413_json(client, own_post, unchanged):
    form = "&".join(f"field{n}=1" for n in range(1001)) + "&title=t&content=c"

    response = client.post("/posts/", form, content_type="application/x-www-form-urlencoded")

    assert assert_json_detail(response, 413) == {"detail": "Too many fields in the request"}
    unchanged()


# Bytes that are not UTF-8 -----------------------------------------------------------------


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize(
    "media_type, raw",
    [
        ("application/json", b'{"title": "\xff\xfe", "content": "x"}'),
        ("application/json", '{"title": "t", "content": "x"}'.encode("utf-16")),
        ("application/x-www-form-urlencoded", b"title=\xff\xfe&content=x"),
        ("application/x-www-form-urlencoded", b"title=%FF%FE&content=x"),
        ("application/x-www-form-urlencoded", b"\xc0\xaf=1&title=t&content=x"),
        (
            "multipart/form-data",
            b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\n\xff\xfe\r\n--b--\r\n',
        ),
    ],
    ids=["json", "json-utf16", "form-raw", "form-escaped", "form-name", "multipart"],
)
def test_body_that_is_not_utf8_returns_422_about_the_body(
    client, own_post, unchanged, operation, media_type, raw
):
    method, path = operation

    response = send(client, method, path, own_post, raw, FORMATS[media_type])

    [entry] = assert_json_detail(response, 422)["detail"]
    assert entry["loc"] == ["body"]
    unchanged()


def test_form_bodies_in_utf8_still_work(client, user):
    form = "title=Caf%C3%A9+%E2%98%95&content=ol%C3%A9"

    response = client.post("/posts/", form, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 201, response.content
    assert Post.objects.get(pk=response.json()["id"]).title == "Café ☕"


def test_multipart_bodies_in_utf8_still_work(client, user):
    body = (
        '--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nCafé ☕\r\n'
        '--b\r\nContent-Disposition: form-data; name="content"\r\n\r\nolé\r\n--b--\r\n'
    ).encode()

    response = client.post("/posts/", body, content_type="multipart/form-data; boundary=b")

    assert response.status_code == 201, response.content
    assert Post.objects.get(pk=response.json()["id"]).title == "Café ☕"


@pytest.mark.parametrize(
    "path, locs",
    [
        ("/posts/?search=%FF%FE", [["query", "search"]]),
        ("/posts/?search=%ED%A0%80", [["query", "search"]]),  # a lone surrogate: not UTF-8
        ("/posts/?limit=%C0%80&skip=1", [["query", "limit"]]),
        ("/posts/?limit=%FF&search=%FE", [["query", "limit"], ["query", "search"]]),
        ("/posts/?%FF=1", [["query"]]),
        ("/users/me?x=%FF", [["query", "x"]]),
        ("/users/1?x=%FF", [["query", "x"]]),
    ],
)
def test_query_string_that_is_not_utf8_returns_422_naming_the_parameter(
    client, own_post, path, locs
):
    response = client.get(path)

    message = "The query string is not valid UTF-8."
    assert assert_json_detail(response, 422) == {
        "detail": [{"loc": loc, "msg": message, "type": "value_error"} for loc in locs]
    }


def test_raw_bytes_that_are_not_utf8_in_the_query_string_return_422(client):
    # A real server hands raw bytes to Django as Latin-1 text, as the test client does here.
    response = client.get("/posts/", QUERY_STRING="search=\xff\xfe")

    assert assert_json_detail(response, 422)["detail"][0]["loc"] == ["query", "search"]


def test_query_string_in_utf8_still_works(client, user):
    PostFactory(owner=user, title="Café crème")

    response = client.get("/posts/?search=caf%C3%A9")

    assert response.status_code == 200
    assert [item["Post"]["title"] for item in response.json()] == ["Café crème"]


@pytest.mark.parametrize("operation", ID_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize("raw", ["%FF", "%C0%AF", "%ED%A0%80", "%FF%FE%00"])
def test_path_id_that_is_not_utf8_returns_422_at_path_id(
    client, own_post, unchanged, operation, raw
):
    method, path = operation

    response = getattr(client, method)(path.replace("{id}", raw))

    body = assert_json_detail(response, 422)
    assert [entry["loc"] for entry in body["detail"]] == [["path", "id"]]
    unchanged()


# Null characters and lone surrogates in string fields -------------------------------------


@pytest.mark.parametrize(
    "method, path, body, field", STRING_FIELDS, ids=lambda v: v if isinstance(v, str) else None
)
@pytest.mark.parametrize(
    "bad, message",
    [
        ("nul\x00", "Null characters are not allowed."),
        ("\ud800", "Surrogate characters are not allowed: U+D800."),
        ("a\udfffb", "Surrogate characters are not allowed: U+DFFF."),
    ],
    ids=["null", "lone-high-surrogate", "lone-low-surrogate"],
)
def test_null_character_or_lone_surrogate_in_a_string_returns_422_naming_the_field(
    client, own_post, unchanged, method, path, body, field, bad, message
):
    # The escape "\ud800", as a client's JSON encoder writes a lone surrogate.
    raw = json.dumps({**body, field: bad}, ensure_ascii=True)

    response = send(client, method, path, own_post, raw, "application/json")

    entries = assert_json_detail(response, 422)["detail"]
    assert {"loc": ["body", field], "msg": message, "type": "value_error"} in entries
    unchanged()


def test_null_character_in_the_search_returns_422(client):
    response = client.get("/posts/?search=nul%00")

    assert assert_json_detail(response, 422) == {
        "detail": [
            {
                "loc": ["query", "search"],
                "msg": "Null characters are not allowed.",
                "type": "value_error",
            }
        ]
    }


def test_lone_surrogate_in_a_login_email_is_a_422_not_a_500(db):
    # The failed-login throttle hashes the email before the form is validated.
    client = APIClient()
    client.raise_request_exception = False

    response = client.post(
        "/login",
        '{"username": "a\\ud800@example.com", "password": "x"}',
        content_type="application/json",
    )

    assert assert_json_detail(response, 422)["detail"][0]["loc"] == ["body", "username"]


# Ids in paths -----------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ID_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize(
    "raw",
    ["abc", "1e3", "0x10", "1.5", "1.0", "+1", " 1", "1 ", "\uff11", "1_0", "--1"]
    + ["9223372036854775808", "-9223372036854775809"]
    + ["9" * 40, "9" * 5000, "%00", "null", "true", "[1]"],
)
def test_id_that_is_not_a_64_bit_integer_returns_422_at_path_id(
    client, own_post, unchanged, operation, raw
):
    method, path = operation

    response = getattr(client, method)(path.replace("{id}", raw))

    body = assert_json_detail(response, 422)
    assert [entry["loc"] for entry in body["detail"]] == [["path", "id"]]
    unchanged()


@pytest.mark.parametrize("operation", ID_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize("raw", ["0", "-1", "-9223372036854775808", "9223372036854775807"])
def test_id_of_nothing_returns_404_with_its_message(client, own_post, unchanged, operation, raw):
    method, path = operation

    response = getattr(client, method)(path.replace("{id}", raw), {"reason": "r"}, format="json")

    body = assert_json_detail(response, 404)
    if path.startswith("/users/"):
        assert body == {"detail": f"User with id: {raw} does not exist"}
    else:
        assert body == {"detail": f"post with id: {raw} was not found"}
    unchanged()


@pytest.mark.parametrize(
    "post_id", [0, -1, -(2**63), 2**63 - 1, "9223372036854775808", "abc", 1.5, None, [1], {}]
)
@pytest.mark.parametrize("direction", [0, 1])
def test_vote_with_a_post_id_of_nothing_or_not_an_id_is_404_or_422(
    client, own_post, unchanged, post_id, direction
):
    response = client.post("/vote/", {"post_id": post_id, "dir": direction}, format="json")

    if isinstance(post_id, int):
        assert assert_json_detail(response, 404) == {
            "detail": f"Post with id: {post_id} does not exist"
        }
    else:
        entries = assert_json_detail(response, 422)["detail"]
        assert [entry["loc"] for entry in entries] == [["body", "post_id"]]
    unchanged()
