"""What the conditional-request tests (posts, comments, social) share: ETag on GET, If-None-Match
and its 304, If-Match and its 412 (core/conditional.py, docs/api.md Part 4)."""

import re

from core import cache

# The contract's words, written out rather than imported: a change to the server's must fail here.
STALE = {"detail": "The resource has changed since you read it"}
STRONG_TAG = re.compile(r'"[0-9a-f]{24}"')
CACHE_MODES = ["no cache", "local memory", "redis"]


def serve_reads(request, settings):
    """A CACHE_MODES fixture's body: each answer must be the same with the read cache off and on."""
    settings.API_CACHE = request.param != "no cache"
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    cache.memory.clear()
    yield request.param
    cache.memory.clear()


def header_for(template: str | None, tag: str) -> str | None:
    """A parametrized header (`{tag}`, `{unquoted}`) for the tag just read, None for no header."""
    return None if template is None else template.format(tag=tag, unquoted=tag.strip('"'))


def etag_of(client, path: str) -> str:
    """The tag a GET of `path` gives now, so a test can send it back (a failed read fails here)."""
    response = client.get(path)
    assert response.status_code == 200, response.content
    return response["ETag"]


def assert_strong_etag_twice(client, path: str):
    """Two reads, one strong tag and one body: the tag names what is read; returns the first."""
    first = client.get(path)
    again = client.get(path)
    assert first.status_code == again.status_code == 200, first.content
    assert STRONG_TAG.fullmatch(first["ETag"]), first["ETag"]
    assert again["ETag"] == first["ETag"]
    assert again.json() == first.json()
    return first


def assert_not_modified(
    client, path: str, tag: str, if_none_match: str | None = None, method="get"
):
    """If-None-Match naming `tag` is a bodiless 304 with the tag: the client keeps its copy."""
    header = tag if if_none_match is None else if_none_match
    response = getattr(client, method)(path, HTTP_IF_NONE_MATCH=header)
    assert response.status_code == 304, response.content
    assert response.content == b""
    assert response["ETag"] == tag
    return response


def assert_modified(client, path: str, if_none_match: str):
    """A stale If-None-Match is the full 200 with a new strong tag: the client's copy is stale."""
    response = client.get(path, HTTP_IF_NONE_MATCH=if_none_match)
    assert response.status_code == 200, response.content
    assert STRONG_TAG.fullmatch(response["ETag"]), response["ETag"]
    assert response["ETag"] != if_none_match
    return response


def assert_next_tag(client, path: str, response, old: str | None = None) -> None:
    """A write answers the tag the next GET gives (not `old`), so a client can chain If-Match."""
    if old is not None:
        assert response["ETag"] != old
    assert response["ETag"] == etag_of(client, path)


def assert_precondition_failed(response, *, before, after) -> None:
    """A stale If-Match is the JSON 412 and writes nothing: the state `after` is still `before`."""
    assert response.status_code == 412, response.content
    assert response.json() == STALE
    assert after == before
