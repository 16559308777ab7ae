"""JSONFirstNegotiation picks what DRF's own negotiation picks, for every Accept header."""

import pytest
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.negotiation import JSONFirstNegotiation

RENDERER_LISTS = [
    [JSONRenderer(), BrowsableAPIRenderer()],
    [BrowsableAPIRenderer(), JSONRenderer()],
    [JSONRenderer()],
]
ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "text/html",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "application/json; indent=4",
    "application/*",
]


def choose(negotiation, accept, renderers, query=""):
    """(renderer class, media type), or "406" when the negotiation refuses the request."""
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(f"/posts/{query}", **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers)
    except NotAcceptable:
        return "406"
    return type(renderer), media_type


@pytest.mark.parametrize("renderers", RENDERER_LISTS, ids=["json-first", "html-first", "json"])
@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query", ["", "?format=json", "?format=api"])
def test_the_choice_is_drfs_own(renderers, accept, query):
    if query == "?format=api" and not any(r.format == "api" for r in renderers):
        pytest.skip("no renderer for that format")
    assert choose(JSONFirstNegotiation(), accept, renderers, query) == choose(
        DefaultContentNegotiation(), accept, renderers, query
    )


@pytest.mark.django_db
def test_an_api_client_gets_json_and_a_browser_the_browsable_api(auth_client):
    for accept in ({}, {"HTTP_ACCEPT": "*/*"}, {"HTTP_ACCEPT": "application/json"}):
        response = auth_client.get("/posts/", **accept)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        assert response.json() == []
    page = auth_client.get("/posts/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
