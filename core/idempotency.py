"""`Idempotency-Key` (docs/api.md Part 4): a retried POST has its effect once and gets the
first answer again.

`@idempotent` wraps the handlers of the POSTs that create or change something. After
authentication and throttling it runs the handler and keeps the answer (core.models
.IdempotencyKey) in one transaction, so a crash or an error before the commit leaves neither the
effect nor the record, and a retry then runs the request afresh. On PostgreSQL a
transaction-scoped advisory lock on (caller, key) turns a repeat that arrives while the first
is still running into a 409 instead of a second run; on SQLite every write transaction holds
the database's lock from its start (BEGIN IMMEDIATE), so the repeat waits and then replays.
"""

import hashlib
import re
from functools import wraps

from django.db import connection, transaction
from django.http import HttpResponse
from django.http.request import RawPostDataException
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from .exceptions import ConflictError, RequestValidationError
from .models import IdempotencyKey
from .schema import IDEMPOTENCY_KEY

META_KEY = "HTTP_IDEMPOTENCY_KEY"
REPLAYED = "Idempotent-Replayed"
VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")  # printable ASCII, space included
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MALFORMED = "Must be 1 to 255 printable ASCII characters"
REUSED = "This key was already used for a different request (method, path or body)"
RUNNING = "A request with this Idempotency-Key is still running; retry it later"


def idempotent(handler):
    """Honour `Idempotency-Key` on this POST handler: one effect, the first answer replayed."""

    @wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = _key(request)
        if key is None:
            return handler(view, request, *args, **kwargs)
        scope, request_hash = _scope(request), _request_hash(request)
        with transaction.atomic():
            _lock(scope, key)
            record = _record(scope, key)
            if record is not None:
                if record.request_hash != request_hash:
                    raise _reused()
                return _replay(record)
            response = _run(view, handler, request, *args, **kwargs)
            if _is_kept(response.status_code):
                _keep(scope=scope, key=key, request_hash=request_hash, view=view, response=response)
        return response

    wrapper.idempotent = True
    return extend_schema(parameters=[IDEMPOTENCY_KEY])(wrapper)


def refuse_reuse(view, request) -> None:
    """On any other write: the key is not kept, but one kept for another request is a 422."""
    if request.method not in UNSAFE_METHODS or META_KEY not in request.META:
        return
    if getattr(getattr(view, request.method.lower(), None), "idempotent", False):
        return  # `@idempotent` checks, and keeps, the key itself
    key = request.META[META_KEY]
    if VALID_KEY.fullmatch(key) and (
        IdempotencyKey.objects.fresh().filter(scope=_scope(request), key=key).exists()
    ):
        raise _reused()


def _key(request) -> str | None:
    if META_KEY not in request.META:
        return None
    key = request.META[META_KEY]
    if not VALID_KEY.fullmatch(key):
        raise RequestValidationError({"Idempotency-Key": [MALFORMED]}, location="header")
    return key


def _reused() -> RequestValidationError:
    return RequestValidationError({"Idempotency-Key": [REUSED]}, location="header")


def _scope(request) -> str:
    """Whose key it is: the member, or the client's address as throttling sees it."""
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    address = BaseThrottle().get_ident(request)
    if len(address) > 64:  # no address is that long: a forwarded header's junk, kept short
        address = hashlib.sha256(address.encode()).hexdigest()
    return f"addr:{address}"


def _request_hash(request) -> str:
    """SHA-256 of the method, the path (either slash), the Content-Type and the body's bytes."""
    try:
        body = request.body
    except RawPostDataException:  # a multipart form Django parsed already (a session's CSRF check)
        body = request.data.urlencode().encode()
    digest = hashlib.sha256()
    for part in (request.method, request.path.rstrip("/"), request.content_type):
        digest.update(part.encode() + b"\n")
    digest.update(body)
    return digest.hexdigest()


def _lock(scope: str, key: str) -> None:
    """Hold (scope, key) until this transaction ends; 409 if another request holds it now."""
    if connection.vendor != "postgresql":
        return  # SQLite: this transaction holds the database's write lock already
    lock_id = int.from_bytes(hashlib.sha256(f"{scope}\n{key}".encode()).digest()[:8], signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        if not cursor.fetchone()[0]:
            raise ConflictError(RUNNING)


def _record(scope: str, key: str) -> IdempotencyKey | None:
    try:
        record = IdempotencyKey.objects.get(scope=scope, key=key)
    except IdempotencyKey.DoesNotExist:
        return None
    if record.expired:  # as if never sent, whether or not the purge has run yet
        record.delete()
        return None
    return record


def _run(view, handler, request, *args, **kwargs):
    """The handler's answer, its errors answered as DRF would; an error undoes its writes.

    What is not an API error propagates: the whole transaction is undone and the client gets a
    500, so the retry runs again.
    """
    try:
        with transaction.atomic():
            return handler(view, request, *args, **kwargs)
    except Exception as error:
        return view.handle_exception(error)


def _is_kept(status: int) -> bool:
    """The answers of a request that ran: not a server error, nor one worth retrying as is."""
    return status < 500 and status not in (401, 429)


def _keep(*, scope: str, key: str, request_hash: str, view, response) -> None:
    """Store the answer as the client will get it, in the transaction of the request's writes."""
    if isinstance(response, Response):
        # DRF renders after the view returns (finalize_response); the bytes are needed now.
        response.accepted_renderer = view.request.accepted_renderer
        response.accepted_media_type = view.request.accepted_media_type
        response.renderer_context = view.get_renderer_context()
        response.render()
    IdempotencyKey.objects.create(
        scope=scope,
        key=key,
        request_hash=request_hash,
        status=response.status_code,
        headers=dict(response.items()),
        body=response.content,
    )


def _replay(record: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status)
    del response["Content-Type"]  # the kept headers have it, when the first answer had one
    for name, value in record.headers.items():
        response[name] = value
    response[REPLAYED] = "true"
    return response
