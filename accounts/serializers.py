"""Wire shapes of users and tokens. Validation only: no queries, no side effects."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from core.rendering import iso_datetime

from .models import User


def validate_new_password(password: str, *, user: User) -> str:
    """Run Django's password validators, reporting their messages as field errors."""
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as error:
        raise serializers.ValidationError(list(error.messages)) from None
    return password


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
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)

    def validate_password(self, value):
        return validate_new_password(value, user=None)

    def validate(self, attrs):
        # The similarity check needs the would-be user, so it runs again once both fields parse.
        try:
            validate_new_password(attrs["password"], user=User(email=attrs["email"]))
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"password": error.detail}) from None
        return attrs


class UserUpdateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254, required=False)


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)

    def validate_new_password(self, value):
        return validate_new_password(value, user=self.context["request"].user)


class LoginSerializer(serializers.Serializer):
    """OAuth2 password flow fields (`username` is the email); JSON may say `email` instead."""

    username = serializers.CharField(max_length=254, required=False, trim_whitespace=True)
    email = serializers.CharField(max_length=254, required=False, trim_whitespace=True)
    password = serializers.CharField(max_length=128, trim_whitespace=False)

    def validate(self, attrs):
        email = attrs.get("username") or attrs.get("email")
        if not email:
            raise serializers.ValidationError(
                {"username": ["This field is required."]}, code="required"
            )
        return {"email": email, "password": attrs["password"]}


class RefreshTokenSerializer(serializers.Serializer):
    refresh_token = serializers.CharField()


class TokenPairSerializer(serializers.Serializer):
    """What `/login` and `/token/refresh` answer."""

    access_token = serializers.CharField()
    token_type = serializers.CharField(default="bearer")
    refresh_token = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")
