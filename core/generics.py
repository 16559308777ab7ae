"""Base classes shared by the API's views, so every endpoint treats ids the same way."""

from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.serializers import IntegerField

from .exceptions import NotFoundError, RequestValidationError

_ID_FIELD = IntegerField(min_value=-(2**63), max_value=2**63 - 1)


def parse_id(raw) -> int:
    """A path id as an int; anything else is a 422 about `["path", "id"]`."""
    try:
        return _ID_FIELD.run_validation(raw)
    except ValidationError as error:
        raise RequestValidationError({"id": error.detail}, location="path") from None


class IdLookupAPIView(GenericAPIView):
    """Finds `{id}` in `get_queryset()`, answering 404 with `not_found_message`."""

    not_found_message = "{model} with id: {id} was not found"

    def get_object(self):
        pk = parse_id(self.kwargs["pk"])
        queryset = self.filter_queryset(self.get_queryset())
        try:
            obj = queryset.get(pk=pk)
        except queryset.model.DoesNotExist:
            raise NotFoundError(
                self.not_found_message.format(model=queryset.model.__name__, id=pk)
            ) from None
        self.check_object_permissions(self.request, obj)
        return obj
