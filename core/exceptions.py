"""One place that turns every API error into the original API's JSON shapes."""

from rest_framework import status
from rest_framework.exceptions import NotAuthenticated, ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(Exception):
    """A rule of the domain was broken; services raise it, the API answers `status_code`."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFoundError(DomainError):
    status_code = status.HTTP_404_NOT_FOUND


class ConflictError(DomainError):
    status_code = status.HTTP_409_CONFLICT


class ForbiddenError(DomainError):
    status_code = status.HTTP_403_FORBIDDEN


class RequestValidationError(ValidationError):
    """A validation error about a part of the request other than the body (`query`, `path`)."""

    def __init__(self, detail, *, location: str):
        super().__init__(detail)
        self.location = location


def validation_errors(detail, loc: list) -> list[dict]:
    """Flatten DRF's nested error detail into FastAPI-style `{loc, msg, type}` entries."""
    if isinstance(detail, dict):
        entries = []
        for field, sub_detail in detail.items():
            sub_loc = loc if field == "non_field_errors" else [*loc, field]
            entries += validation_errors(sub_detail, sub_loc)
        return entries
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [_entry(item, loc) for item in detail]
        entries = []
        for index, item in enumerate(detail):
            entries += validation_errors(
                item, [*loc, index] if isinstance(item, (dict, list)) else loc
            )
        return entries
    return [_entry(detail, loc)]


def _entry(message, loc: list) -> dict:
    code = getattr(message, "code", None)
    return {
        "loc": loc,
        "msg": str(message),
        "type": "missing" if code in ("required", "null") else "value_error",
    }


def exception_handler(exc, context):
    """DRF exception handler: 422 lists for invalid input, `{"detail": str}` for the rest."""
    if isinstance(exc, DomainError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return Response({"detail": exc.message}, status=exc.status_code, headers=headers)
    if isinstance(exc, ParseError):
        detail = [{"loc": ["body"], "msg": str(exc.detail), "type": "json_invalid"}]
        return Response({"detail": detail}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    if isinstance(exc, NotAuthenticated):
        exc.detail = "Not authenticated"  # the original API's words
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API error: core.middleware answers 500 in JSON
    if isinstance(exc, ValidationError):
        location = getattr(exc, "location", "body")
        response.data = {"detail": validation_errors(exc.detail, [location])}
        response.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    return response
