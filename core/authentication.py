"""Bearer-token authentication speaking the original API's dialect."""

import copy

from rest_framework import HTTP_HEADER_ENCODING
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed as JWTAuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from core import cache

INVALID_CREDENTIALS = "Could not validate credentials"
_MAX_ID = 2**63 - 1


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

    def get_user(self, validated_token):
        """SimpleJWT's checks, with the user read through the shared cache (core.cache).

        Any change to a user moves their cache version at commit, so a suspension or a
        password change takes effect on the very next request, on every worker. The versions
        the rest of the request will want for this member are read in the same round trip.
        """
        user_id = token_user_id(validated_token)
        if user_id is None:
            raise InvalidToken("Token contained no recognizable user identification")
        cache.prefetch(self.request, *cache.member_versions(user_id))
        user = cache.read_through(
            self.request,
            f"auth:user:{user_id}",
            versions_of=(f"user:{user_id}",),
            compute=lambda: self.user_model.objects.filter(pk=user_id).first(),
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
