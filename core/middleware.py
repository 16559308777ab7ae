"""Middleware that keeps even the server's own failures in the API's JSON shape."""

import logging

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, JsonResponse

logger = logging.getLogger("socialapi.errors")


class JSONExceptionMiddleware:
    """Answer an exception no view handled with JSON `{"detail": ...}`, in DEBUG too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (Http404, PermissionDenied)):
            return None  # Django's own handling (the admin relies on it)
        if isinstance(exception, (SuspiciousOperation, BadRequest)):
            logger.warning("Bad request on %s %s: %s", request.method, request.path, exception)
            return JsonResponse({"detail": "Bad Request"}, status=400)
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return JsonResponse({"detail": "Internal Server Error"}, status=500)
