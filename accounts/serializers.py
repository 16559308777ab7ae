"""Wire shapes of users and tokens. Validation only: no queries, no side effects."""

from collections.abc import Mapping

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from core.rendering import iso_datetime
from core.serializers import FormBlanksMixin, StrictCharField

from .models import User


def validate_new_password(password: str, *, user: User) -> str:
    """Run Django's password validators, reporting their messages as field errors."""
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as error:
        raise serializers.ValidationError(list(error.messages)) from None
    return password


class NewPasswordField(StrictCharField):
    """A password being set. Django's validators judge it (`validate_new_password`); the schema
    says what they ask: the length as minLength, digits only as a pattern, all in words."""

    def __init__(self, **kwargs):
        super().__init__(max_length=128, trim_whitespace=False, **kwargs)

    def schema_rules(self) -> dict:
        """What core.schema.AutoSchema adds to the field's schema."""
        validators = password_validation.get_default_password_validators()
        rules = {
            "description": "The server's password validators check it (your personal "
            "information being your email): "
            + " ".join(password_validation.password_validators_help_texts(validators)),
        }
        for validator in validators:
            if isinstance(validator, password_validation.MinimumLengthValidator):
                rules["minLength"] = validator.min_length
            if isinstance(validator, password_validation.NumericPasswordValidator):
                # Some character other than 0-9 (and no NUL), as every regex engine reads it.
                # Digits of other scripts count for the validator too: the description says
                # so, as it says what no pattern can (common, like the email).
                rules["pattern"] = r"^[^\x00]*[^0-9\x00][^\x00]*$"
        return rules


class UserSerializer(serializers.ModelSerializer):
    """The public `User` shape: never a password or hash. Responses use `user_out()`."""

    class Meta:
        model = User
        fields = ["id", "email", "created_at"]
        read_only_fields = ["id", "created_at"]


def user_out(user: User) -> dict:
    """UserSerializer's output without building a serializer (a test keeps the two equal)."""
    return {"id": user.pk, "email": user.email, "created_at": iso_datetime(user.created_at)}


USER_FIELDS = ("id", "email", "created_at")


def user_row_out(row: dict) -> dict:
    """`user_out` of a `.values(*USER_FIELDS)` row."""
    return {"id": row["id"], "email": row["email"], "created_at": iso_datetime(row["created_at"])}


class UserCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = NewPasswordField(write_only=True)

    def validate_password(self, value):
        return validate_new_password(value, user=None)

    def validate(self, attrs):
        # The similarity check needs the would-be user, so it runs again once both fields parse.
        try:
            validate_new_password(attrs["password"], user=User(email=attrs["email"]))
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"password": error.detail}) from None
        return attrs


class UserUpdateSerializer(FormBlanksMixin, serializers.Serializer):
    """What a member may change of themselves: their email."""

    email = serializers.EmailField(max_length=254, required=False)


class PasswordChangeSerializer(serializers.Serializer):
    current_password = StrictCharField(max_length=128, trim_whitespace=False)
    new_password = NewPasswordField()

    def validate_new_password(self, value):
        return validate_new_password(value, user=self.context["request"].user)


NAMES = {"username", "email"}


class LoginSerializer(serializers.Serializer):
    """OAuth2 password flow fields (`username` is the email); JSON may say `email` instead."""

    username = StrictCharField(max_length=254, required=False, trim_whitespace=True)
    email = StrictCharField(max_length=254, required=False, trim_whitespace=True)
    password = StrictCharField(max_length=128, trim_whitespace=False)

    def to_internal_value(self, data):
        """No email and a bad password: both are reported, as the original's 422 lists every
        problem (`validate` would never run to say the email is missing)."""
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            if not isinstance(data, Mapping) or any(data.get(name) for name in NAMES):
                raise  # not an object at all, or an email was sent: its problem, if any, is said
            required = ErrorDetail("This field is required.", code="required")
            raise serializers.ValidationError({"username": [required], **error.detail}) from None

    def validate(self, attrs):
        email = attrs.get("username") or attrs.get("email")
        if not email:
            raise serializers.ValidationError(
                {"username": ["This field is required."]}, code="required"
            )
        return {"email": email, "password": attrs["password"]}

    def schema_rules(self) -> dict:
        """What core.schema.AutoSchema adds to the body's schema: one of the two names."""
        return {"anyOf": [{"required": ["username"]}, {"required": ["email"]}]}


class RefreshTokenSerializer(serializers.Serializer):
    refresh_token = StrictCharField()


class TokenPairSerializer(serializers.Serializer):
    """What `/login` and `/token/refresh` answer."""

    access_token = serializers.CharField()
    token_type = serializers.CharField(default="bearer")
    refresh_token = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")
