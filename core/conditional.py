"""Conditional requests (RFC 9110 §13): ETags on reads, If-None-Match, If-Match on writes.

A tag is a short hash of the JSON a GET gives the caller, so it moves exactly when that does (an
edit, a vote, a new comment), served from the cache or not, and costs no query. A write compares
If-Match with the tag of the same representation built from the database while it holds the
row's lock in its transaction (the services do it): of two writers holding one tag, the second
waits for the first, then finds its tag stale.
"""

import hashlib
from collections.abc import Callable

from django.http import HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import parse_etags
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .exceptions import DomainError

STALE = "The resource has changed since you read it"
_JSON = JSONRenderer()


class PreconditionFailedError(DomainError):
    status_code = status.HTTP_412_PRECONDITION_FAILED


def etag(data) -> str:
    """The strong tag of `data` as the JSON renderer writes it: equal bytes, equal tags."""
    return f'"{hashlib.blake2b(_JSON.render(data), digest_size=12).hexdigest()}"'


def read_response(request, data) -> HttpResponseBase:
    """`data` with its ETag; Django's 304 with no body when If-None-Match names that tag
    (weakly compared), lists it, or is `*`; the JSON 412 for a stale If-Match."""
    tag = etag(data)
    require_match(if_match(request), lambda: data)  # JSON 412, not Django's bare one
    return get_conditional_response(
        request, etag=tag, response=Response(data, headers={"ETag": tag})
    )


def if_match(request) -> str | None:
    """The If-Match header for a service, None when absent or blank (no precondition then)."""
    value = request.headers.get("If-Match", "")
    return value if value.strip() else None


def require_match(header: str | None, current: Callable[[], object]) -> None:
    """The 412 unless If-Match (`header`) is `*` or names the tag of `current()`, the resource
    as a GET would give it now. Strong comparison: a weak tag, or anything unparsable, never
    matches. Nothing to do without the header.

    Call it in the write's transaction with the resource's row locked, before writing.
    """
    if header is None:
        return
    tags = parse_etags(header)
    if tags != ["*"] and etag(current()) not in tags:
        raise PreconditionFailedError(STALE)
