"""The API documentation: a valid OpenAPI 3 schema and docs pages that need no internet."""

import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.validators import validate_email
from rest_framework.test import APIClient

from core.schema import EMAIL_PATTERN, SPACES

pytestmark = pytest.mark.django_db

# Every operation of docs/api.md, as the schema must name it.
DOCUMENTED = {
    ("/", "get"),
    ("/users/", "post"),
    ("/users/{id}", "get"),
    ("/users/me", "get"),
    ("/users/me", "patch"),
    ("/users/me/password", "post"),
    ("/login", "post"),
    ("/token/refresh", "post"),
    ("/logout", "post"),
    ("/posts/", "get"),
    ("/posts/", "post"),
    ("/posts/{id}", "get"),
    ("/posts/{id}", "put"),
    ("/posts/{id}", "patch"),
    ("/posts/{id}", "delete"),
    ("/vote/", "post"),
    ("/posts/{id}/report", "post"),
}


@pytest.fixture(params=["/openapi.json", "/openapi.json/"])
def schema(request, api_client):
    response = api_client.get(request.param)  # every path with and without a trailing slash
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def test_schema_generates_with_no_warnings_and_validates_as_openapi_3(tmp_path):
    # --validate checks against the OpenAPI 3 JSON schema; --fail-on-warn makes warnings fatal.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))
    assert (tmp_path / "s.yaml").read_text().startswith("openapi: 3.")


def test_schema_describes_every_operation_of_the_contract(schema):
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert DOCUMENTED <= operations


def test_schema_lists_each_status_code_of_the_contract(schema):
    def codes(path, method):
        return set(schema["paths"][path][method]["responses"])

    assert codes("/users/", "post") >= {"201", "409", "422"}
    assert codes("/login", "post") >= {"200", "403", "422"}
    assert codes("/posts/{id}", "put") >= {"200", "401", "403", "404", "422"}
    assert codes("/posts/{id}", "delete") >= {"204", "401", "403", "404"}
    assert codes("/vote/", "post") >= {"201", "401", "404", "409", "422"}
    assert codes("/posts/{id}/report", "post") >= {"201", "404", "409", "422"}


def test_schema_has_the_oauth2_password_flow_on_login(schema):
    scheme = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert scheme == {"type": "oauth2", "flows": {"password": {"tokenUrl": "/login", "scopes": {}}}}
    assert {"OAuth2PasswordBearer": []} in schema["paths"]["/posts/"]["get"]["security"]
    assert schema["paths"]["/login"]["post"].get("security") in (None, [], [{}])


def test_post_out_keeps_the_capital_p_wire_format(schema):
    post_out = schema["components"]["schemas"]["PostOut"]
    assert set(post_out["properties"]) == {"Post", "votes", "voted", "comments"}


@pytest.mark.parametrize("path", ["/docs", "/docs/", "/redoc", "/redoc/"])
def test_docs_pages_load_only_assets_we_serve(api_client, path):
    response = api_client.get(path, HTTP_AUTHORIZATION="Bearer stale-token")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/openapi.json" in html
    external = re.findall(r"""(?:src|href)=["'](https?:)?//""", html)
    assert external == [], "a docs page links an asset from another host"
    assert "fonts.googleapis" not in html


def test_the_docs_pages_are_not_throttled_and_the_schema_is_with_a_json_429(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "anon": "1/min", "user": "1/min"},
    }
    client = APIClient()

    assert [client.get(path).status_code for path in ("/docs", "/redoc", "/docs")] == [200] * 3
    assert client.get("/openapi.json").status_code == 200
    throttled = client.get("/openapi.json")
    assert throttled.status_code == 429
    assert throttled["Content-Type"] == "application/json"
    assert throttled.json()["detail"].startswith("Request was throttled.")


# The schema says exactly what the server reads (core/tests/test_fuzz_schema.py checks it live).

FORM_AND_JSON = {"application/json", "application/x-www-form-urlencoded", "multipart/form-data"}


def component(schema, name):
    return schema["components"]["schemas"][name]


def parameters(schema, name, location):
    """Each (path, method, schema) of the parameter `name` in `location`."""
    return [
        (path, method, parameter["schema"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        for parameter in operation.get("parameters", [])
        if (parameter["name"], parameter["in"]) == (name, location)
    ]


@pytest.mark.parametrize(
    ("name", "location", "minimum"),
    [("id", "path", 1), ("limit", "query", 0), ("skip", "query", 0)],
)
def test_schema_bounds_ids_and_paging_as_the_server_reads_them(schema, name, location, minimum):
    found = parameters(schema, name, location)

    assert len(found) >= 5
    for path, method, bounds in found:
        assert (bounds["type"], bounds["minimum"], bounds["maximum"]) == (
            "integer",
            minimum,
            2**63 - 1,
        ), f"{method} {path}"


def test_schema_lists_for_each_body_the_media_types_the_parsers_read(schema):
    bodies = {
        f"{method} {path}": set(operation["requestBody"]["content"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    }

    assert len(bodies) > 10
    assert all(media_types == FORM_AND_JSON for media_types in bodies.values()), bodies


@pytest.mark.parametrize(
    ("name", "field"),
    [("UserCreateRequest", "password"), ("PasswordChangeRequest", "new_password")],
)
def test_schema_states_the_password_validators_rules(schema, name, field):
    rules = component(schema, name)["properties"][field]

    assert (rules["minLength"], rules["maxLength"]) == (8, 128)
    assert not re.search(rules["pattern"], "40938217356")
    assert re.search(rules["pattern"], "4093821735x")
    for words in ("at least 8 characters", "commonly used", "entirely numeric", "too similar"):
        assert words in rules["description"]


def test_schema_requires_the_content_of_a_comment_edit(schema):
    body = schema["paths"]["/comments/{id}"]["patch"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"]

    assert body["required"] is True
    assert component(schema, ref.rsplit("/", 1)[1])["required"] == ["content"]


def test_schema_refuses_the_strings_a_trimmed_text_field_refuses(schema):
    title = re.compile(component(schema, "PostRequest")["properties"]["title"]["pattern"])

    assert title.search(" a ") and title.search("é")
    assert not title.search(" \t\n\u3000") and not title.search("a\x00b")


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("ann@example.com", True),
        ("Ann.O'Neil+x@Sub.Example.CO", True),
        ('"quoted@local"@example.com', True),
        ('"quoted local"@example.com', False),  # a space only escaped
        ("ann@bücher.de", True),
        ("ann@example.xn--p1ai", True),
        ("ann@localhost", True),
        ("0@0.a", False),  # the `email` format admits a one-letter top-level label
        ("ann@-example.com", False),
        ("ann@example.c0m", False),
        ("ann..b@example.com", False),
        ("ann@example", False),
        (" ann@example.com", False),
        ("ann@exa_mple.com", False),
    ],
)
def test_the_email_pattern_is_djangos_email_validator(email, valid):
    try:
        validate_email(email)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted is valid
    assert bool(re.search(EMAIL_PATTERN, email)) is valid


def test_spaces_are_the_characters_python_trims():
    spaces = re.compile(f"[{SPACES}]")
    every = [chr(code) for code in range(0x110000)]

    assert [c for c in every if spaces.fullmatch(c)] == [c for c in every if c.isspace()]
