"""Account writes and the token lifecycle: sign-up, profile, password, login, refresh, logout."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from core.authentication import token_user_id
from core.exceptions import ConflictError, DomainError, ForbiddenError

from .models import User
from .tokens import UserRefreshToken

INVALID_CREDENTIALS = "Invalid Credentials"


class InvalidTokenError(DomainError):
    status_code = 401


def _email_taken_error(email: str) -> ConflictError:
    return ConflictError(f"User with email: {email} already exists")


def user_create(*, email: str, password: str) -> User:
    """Sign a user up; the case-insensitive unique index settles races between sign-ups."""
    email = User.objects.normalize_email(email)
    if User.objects.email_taken(email):
        raise _email_taken_error(email)
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, password=password)
    except IntegrityError:
        raise _email_taken_error(email) from None


def user_update(*, user: User, email: str | None = None) -> User:
    if email is not None:
        email = User.objects.normalize_email(email)
        if User.objects.email_taken(email, exclude_pk=user.pk):
            raise _email_taken_error(email)
        user.email = email
        try:
            with transaction.atomic():
                user.save(update_fields=["email"])
        except IntegrityError:
            raise _email_taken_error(email) from None
    return user


@transaction.atomic
def user_change_password(*, user: User, current_password: str, new_password: str) -> None:
    """Change the password and revoke every refresh token the user holds.

    The row is locked and read again first: of two changes sent at once with the same current
    password, the second is checked against the first one's new password, and refused, instead
    of both answering 204 and the first one's password silently lost.
    """
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.check_password(current_password):
        raise ForbiddenError("Current password is incorrect")
    locked.set_password(new_password)
    locked.save(update_fields=["password"])
    user.password = locked.password
    tokens_revoke_all(user=locked)


def tokens_revoke_all(*, user: User) -> int:
    """Blacklist every outstanding refresh token of `user`; returns how many were revoked."""
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    revoked = [BlacklistedToken(token=token) for token in outstanding]
    BlacklistedToken.objects.bulk_create(revoked, ignore_conflicts=True)
    return len(revoked)


def tokens_issue(*, user: User) -> dict:
    refresh = UserRefreshToken.for_user(user)
    return {
        "access_token": str(refresh.access_token),
        "token_type": "bearer",
        "refresh_token": str(refresh),
        "expires_in": int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()),
    }


def tokens_login(*, request, email: str, password: str) -> dict:
    """Tokens for valid credentials of an active user; one answer for every kind of failure."""
    # authenticate() hashes even for an unknown email, so both failures take similar time.
    user = authenticate(request, username=email, password=password)
    if user is None:
        raise ForbiddenError(INVALID_CREDENTIALS)
    return tokens_issue(user=user)


def _revoke(refresh: RefreshToken) -> None:
    """Blacklist one refresh token; a token already revoked (reused) is refused."""
    outstanding = OutstandingToken.objects.filter(jti=refresh["jti"]).first()
    if outstanding is None:
        raise InvalidTokenError("Token is invalid or expired")
    _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    if not created:
        raise InvalidTokenError("Token is invalid or expired")


def _parse_refresh(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)  # checks signature, expiry, type and the blacklist
    except TokenError:
        raise InvalidTokenError("Token is invalid or expired") from None


def _issued_for_current_password(refresh: RefreshToken, user: User) -> bool:
    """False once the password changed, by any path (the admin, `changepassword`, a race)."""
    if not api_settings.CHECK_REVOKE_TOKEN:
        return True
    return refresh.get(api_settings.REVOKE_TOKEN_CLAIM) == get_md5_hash_password(user.password)


@transaction.atomic
def tokens_refresh(*, refresh_token: str) -> dict:
    """Rotate: revoke the given refresh token and issue a new pair for its active user."""
    refresh = _parse_refresh(refresh_token)
    user_id = token_user_id(refresh)
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None or not _issued_for_current_password(refresh, user):
        raise InvalidTokenError("Token is invalid or expired")
    _revoke(refresh)
    return tokens_issue(user=user)


@transaction.atomic
def tokens_logout(*, user: User, refresh_token: str) -> None:
    refresh = _parse_refresh(refresh_token)
    if token_user_id(refresh) != user.pk:
        raise ForbiddenError("Not authorized to perform requested action")
    _revoke(refresh)
