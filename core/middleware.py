"""Middleware: one log line per request, and even the server's own failures in JSON."""

import logging
import time
from urllib.parse import unquote_to_bytes

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.functional import SimpleLazyObject, empty
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger("socialapi.errors")
request_logger = logging.getLogger("socialapi.requests")
# How long a client should wait before retrying while the database is unreachable (a restart).
DATABASE_RETRY_AFTER_SECONDS = 2


class RequestLogMiddleware:
    """Log each request as method, path, status, duration, user id and client address.

    Only those: never the query string, a header or a body, where tokens and passwords travel.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        request_logger.info(
            "%s %s %s %sms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": _user_id(request),
                # The address throttling counts by (it honours NUM_PROXIES).
                "remote_addr": BaseThrottle().get_ident(request),
            },
        )
        return response


def _user_id(request) -> int | None:
    """Whom the request authenticated as (DRF sets `request.user` on the Django request too)."""
    user = getattr(request, "user", None)
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        return None  # nothing asked who it was; don't query the session for a log line
    return user.pk if user is not None and user.is_authenticated else None


class JSONExceptionMiddleware:
    """Answer an exception no view handled with JSON `{"detail": ...}`, in DEBUG too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (Http404, PermissionDenied)):
            return None  # Django's own handling (the admin relies on it)
        if isinstance(exception, (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)):
            # Past DATA_UPLOAD_MAX_MEMORY_SIZE or _NUMBER_FIELDS: say so, rather than a bare 400.
            logger.warning(
                "Request too large on %s %s: %s", request.method, request.path, exception
            )
            detail = (
                "Request body too large"
                if isinstance(exception, RequestDataTooBig)
                else "Too many fields in the request"
            )
            return JsonResponse({"detail": detail}, status=413)
        if isinstance(exception, (SuspiciousOperation, BadRequest)):
            logger.warning("Bad request on %s %s: %s", request.method, request.path, exception)
            return JsonResponse({"detail": "Bad Request"}, status=400)
        if isinstance(exception, (OperationalError, InterfaceError)):
            # The database is down or restarting: a passing outage, not a bug, and the next
            # request reconnects by itself (CONN_HEALTH_CHECKS). Tell clients to come back.
            logger.warning(
                "Database unavailable on %s %s: %s", request.method, request.path, exception
            )
            response = JsonResponse({"detail": "Service temporarily unavailable"}, status=503)
            response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
            return response
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return JsonResponse({"detail": "Internal Server Error"}, status=500)


class StrictQueryStringMiddleware:
    """Answer a query string that is not UTF-8 with a 422, as a body that is not.

    Django reads bad bytes in `?search=%FF` as U+FFFD, so the client would get results for a
    search it never asked for. The error names the parameter when its name itself is readable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        bad = _parameters_not_in_utf8(query) if query else []
        if bad:
            message = "The query string is not valid UTF-8."
            detail = [{"loc": loc, "msg": message, "type": "value_error"} for loc in bad]
            return JsonResponse({"detail": detail}, status=422)
        return self.get_response(request)


def _parameters_not_in_utf8(query: str) -> list[list[str]]:
    """The `loc` of each parameter whose bytes are not UTF-8: ["query", name], or ["query"]."""
    # WSGI hands the raw bytes over as Latin-1 text; the parameters' %-escapes are decoded here.
    raw = query.encode("latin-1", errors="replace")
    bad = []
    for pair in raw.split(b"&"):
        name, _, value = pair.partition(b"=")
        try:
            name = _decoded(name)
        except UnicodeDecodeError:
            bad.append(["query"])
            continue
        try:
            _decoded(value)
        except UnicodeDecodeError:
            bad.append(["query", name])
    return bad


def _decoded(part: bytes) -> str:
    return unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
