"""The API documentation: a valid OpenAPI 3 schema and docs pages that need no internet."""

import json
import re

import pytest
from django.core.management import call_command

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


@pytest.fixture
def schema(api_client):
    response = api_client.get("/openapi.json")
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
