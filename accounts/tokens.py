"""SimpleJWT tokens in the original API's format."""

from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken


class UserRefreshToken(RefreshToken):
    """A refresh token whose `user_id` claim, and its access token's, is a JSON integer.

    SimpleJWT 5.5 writes the id as a string (it may serve as `sub`); the original API's clients
    read an integer, and `user_id` is not `sub`, so we write the integer back.
    """

    @classmethod
    def for_user(cls, user):
        token = super().for_user(user)
        token[api_settings.USER_ID_CLAIM] = user.pk
        return token
