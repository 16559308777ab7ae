"""Bearer-token authentication speaking the original API's dialect."""

import copy
import functools

from django.db import router
from rest_framework import HTTP_HEADER_ENCODING
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed as JWTAuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import aware_utcnow, get_md5_hash_password

from core import cache
from core.db import CompiledValues

INVALID_CREDENTIALS = "Could not validate credentials"
_MAX_ID = 2**63 - 1
# Tokens whose signature this process checked already, by their exact bytes: checking one
# again costs more than the rest of a cached read (HMAC and JSON, ~0.15 ms here).
_validated = cache.LRU(8192)


def token_user_id(token) -> int | None:
    """The id a token names, or None when its `user_id` claim is not a positive integer.

    Ours hold a JSON integer; SimpleJWT's own write it as a string of digits. Anything else
    (a float, a bool, a word) is refused here, so it never reaches the database as a lookup.
    """
    user_id = token.get(api_settings.USER_ID_CLAIM)
    if isinstance(user_id, str) and user_id.isascii() and user_id.isdigit():
        user_id = int(user_id)
    if type(user_id) is not int or not 0 < user_id <= _MAX_ID:
        return None
    return user_id


def _user(model, user_id: int):
    """The user `user_id`, or None, by a query compiled once (core.db.CompiledValues)."""
    fields, rows_of = _user_query(model)
    using = router.db_for_read(model)
    rows = rows_of(user_id, using=using)
    return model.from_db(using, fields, [rows[0][name] for name in fields]) if rows else None


@functools.cache
def _user_query(model) -> tuple[list[str], CompiledValues]:
    fields = [field.attname for field in model._meta.concrete_fields]
    return fields, CompiledValues(lambda pk: model.objects.filter(pk=pk).values(*fields))


class BearerJWTAuthentication(JWTAuthentication):
    """SimpleJWT with a case-insensitive `Bearer` scheme and one flat 401 message.

    Clients build the header from `token_type` ("bearer"), so the scheme must not be
    case-sensitive; and whatever is wrong with a token, the client is told the same thing.
    """

    def authenticate_header(self, request):
        return "Bearer"

    def get_raw_token(self, header):
        parts = header.split()
        if not parts or parts[0].decode(HTTP_HEADER_ENCODING, "replace").lower() != "bearer":
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(INVALID_CREDENTIALS)
        return parts[1]

    def get_validated_token(self, raw_token):
        """SimpleJWT's validation, once per token per process; the expiry is checked each time."""
        token = _validated.get(raw_token)
        if token is None:
            token = super().get_validated_token(raw_token)
            _validated.put(raw_token, token)
            return token
        try:
            token.check_exp(current_time=aware_utcnow())
        except TokenError:
            raise InvalidToken("Token is invalid or expired") from None
        return token

    def member_hint(self, request) -> int | None:
        """Whose token the request carries, if it is valid: for planning its reads, no query."""
        header = self.get_header(request)
        try:
            raw = self.get_raw_token(header) if header is not None else None
            return token_user_id(self.get_validated_token(raw)) if raw is not None else None
        except (AuthenticationFailed, InvalidToken):
            return None  # authentication proper says why, in its turn

    def get_user(self, validated_token):
        """SimpleJWT's checks, with the user read through the shared cache (core.cache).

        Any change to a user moves their cache version at commit, so a suspension or a
        password change takes effect on the very next request, on every worker. What the rest of
        the request will read for this member comes in the same round trip (cache.Reader.plan).
        """
        user_id = token_user_id(validated_token)
        if user_id is None:
            raise InvalidToken("Token contained no recognizable user identification")
        planned = cache.reader(self.request)
        if planned.member != user_id:  # a view that planned nothing: plan for the member now
            planned.plan(user_id)
        user = cache.read_through(
            self.request,
            f"auth:user:{user_id}",
            versions_of=(f"user:{user_id}",),
            compute=lambda: _user(self.user_model, user_id),
        )
        if user is None or not user.is_active:
            raise AuthenticationFailed(INVALID_CREDENTIALS)
        user = copy.copy(user)  # the cached instance is shared; this request may change its own
        claim = validated_token.get(api_settings.REVOKE_TOKEN_CLAIM)
        if claim != get_md5_hash_password(user.password):  # the password changed since
            raise AuthenticationFailed(INVALID_CREDENTIALS)
        return user

    def authenticate(self, request):
        self.request = request  # DRF makes an authenticator per request; get_user reads it
        try:
            return super().authenticate(request)
        except (InvalidToken, JWTAuthenticationFailed):
            raise AuthenticationFailed(INVALID_CREDENTIALS) from None
