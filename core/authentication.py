"""Bearer-token authentication speaking the original API's dialect."""

from rest_framework import HTTP_HEADER_ENCODING
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed as JWTAuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken

INVALID_CREDENTIALS = "Could not validate credentials"


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

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except (InvalidToken, JWTAuthenticationFailed):
            raise AuthenticationFailed(INVALID_CREDENTIALS) from None
