"""What every request serializer shares: a form body means what the same JSON body means."""

from rest_framework import serializers
from rest_framework.utils import html


class FormBlanksMixin:
    """A form's empty field is an empty value, as `""` is in JSON, never a field left out;
    where the field takes null, an empty value or `null` (its JSON spelling) is null.

    DRF reads `email=` in a form as "not sent" when the field is optional: PATCH /users/me
    answered 200 and changed nothing where `{"email": ""}` is a 422, and `published=` was
    true. Each field gets its last value, as a QueryDict gives it.
    """

    def to_internal_value(self, data):
        if html.is_html_input(data):
            data = {name: self._form_value(name, data[name]) for name in data}
        return super().to_internal_value(data)

    def _form_value(self, name: str, value):
        field = self.fields.get(name)
        return None if value in ("", "null") and field is not None and field.allow_null else value


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers: `"title": 5` is a client's mistake, not the title "5".

    Its length limit counts the text as sent, as the schema's maxLength does; DRF would count
    it once trimmed, accepting 300 characters of which 255 are not spaces.
    """

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)
