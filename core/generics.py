"""Base classes shared by the API's views, so every endpoint treats methods and ids the same way."""

import re

from rest_framework import views
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.serializers import IntegerField

from . import cache, idempotency
from .exceptions import NotFoundError, RequestValidationError

_ID_FIELD = IntegerField(min_value=-(2**63), max_value=2**63 - 1)
_ID_PATTERN = re.compile(r"-?[0-9]+")


def parse_id(raw) -> int:
    """A path id as an int; anything else is a 422 about `["path", "id"]`.

    Only ASCII digits with an optional minus: DRF's IntegerField would also read "1.0", " 1" and
    the full-width "１" as 1, giving one object several URLs.
    """
    try:
        if not _ID_PATTERN.fullmatch(raw):
            _ID_FIELD.fail("invalid")
        return _ID_FIELD.run_validation(raw)
    except ValidationError as error:
        raise RequestValidationError({"id": error.detail}, location="path") from None


def id_or_none(raw) -> int | None:
    """`parse_id` for a plan that may be wrong: None instead of the 422 that comes later."""
    try:
        return parse_id(raw)
    except RequestValidationError:
        return None


class MethodFirstMixin:
    """Answer a method the view lacks with 405 before authentication, throttling or permissions.

    The original API matched the route, method included, before its auth dependency ran, so
    `DELETE /users/me` without a token is a 405 there; DRF would say 401 first.
    """

    def initial(self, request, *args, **kwargs):
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            self.http_method_not_allowed(request, *args, **kwargs)
        super().initial(request, *args, **kwargs)


class PlannedReadsMixin:
    """Plan what the request will read from the cache before authentication runs.

    The token's user, the member's versions and entries, the rate counters and whatever the
    view names in `plan_reads()` then come from the cache in one round trip (core.cache).
    """

    def initial(self, request, *args, **kwargs):
        member_id = next(
            (
                authenticator.member_hint(request)
                for authenticator in request.authenticators
                if hasattr(authenticator, "member_hint")
            ),
            None,
        )
        cache.reader(request).plan(member_id)
        for throttle in self.get_throttles():
            if hasattr(throttle, "planned_counter"):
                cache.want(request, counters=throttle.planned_counter(request, self, member_id))
        if cache.enabled():
            self.plan_reads(request, member_id)
        super().initial(request, *args, **kwargs)

    def plan_reads(self, request, member_id: int | None) -> None:
        """Name what this view reads besides the member's own (`cache.want`); nothing here."""


class KeyReuseMixin:
    """Refuse (422) an `Idempotency-Key` kept for another request, on writes that keep none.

    The contract makes a key used again with a different method or path a 422; the handlers
    that keep keys (`@idempotent`) check their own.
    """

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        idempotency.refuse_reuse(self, request)


class APIView(MethodFirstMixin, PlannedReadsMixin, KeyReuseMixin, views.APIView):
    """DRF's APIView answering 405 first: the base of the API's plain endpoints."""


class IdLookupAPIView(MethodFirstMixin, PlannedReadsMixin, KeyReuseMixin, GenericAPIView):
    """Finds `{id}` in `get_queryset()`, answering 404 with `not_found_message`."""

    not_found_message = "{model} with id: {id} was not found"

    def get_object(self):
        pk = parse_id(self.kwargs["pk"])
        queryset = self.filter_queryset(self.get_queryset())
        try:
            obj = queryset.get(pk=pk)
        except queryset.model.DoesNotExist:
            raise self.not_found(pk) from None
        self.check_object_permissions(self.request, obj)
        return obj

    def not_found(self, pk) -> NotFoundError:
        model = self.get_queryset().model
        return NotFoundError(self.not_found_message.format(model=model.__name__, id=pk))
