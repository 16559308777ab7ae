"""HTTP endpoints for users and tokens; each delegates its work to accounts.services."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from core.generics import APIView
from core.idempotency import idempotent
from core.schema import UNAUTHORIZED, VALIDATION, detail
from core.throttling import LoginEmailRateThrottle

from . import services
from .serializers import (
    LoginSerializer,
    PasswordChangeSerializer,
    RefreshTokenSerializer,
    TokenPairSerializer,
    UserCreateSerializer,
    UserSerializer,
    user_out,
)

EMAIL_TAKEN = detail("User with email: {email} already exists (in any case)")
NO_CONTENT = OpenApiResponse(description="Done; no body.")
REFRESH_EXAMPLE = OpenApiExample(
    "A refresh token", value={"refresh_token": "eyJhbGciOiJIUzI1NiIs..."}, request_only=True
)


class UserCreateView(APIView):
    """Sign up with an email and a password."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_scope = "signup"

    @extend_schema(
        summary="Sign up",
        request=UserCreateSerializer,
        examples=[
            OpenApiExample(
                "New user",
                value={"email": "ann@example.com", "password": "a-long-passphrase"},
                request_only=True,
            )
        ],
        responses={201: UserSerializer, 409: EMAIL_TAKEN, 422: VALIDATION},
    )
    @idempotent
    def post(self, request):
        serializer = UserCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_create(**serializer.validated_data)
        return Response(
            user_out(user),
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/users/{user.pk}"},
        )


class PasswordChangeView(APIView):
    """Change the caller's password; every refresh token they hold is revoked."""

    @extend_schema(
        summary="Change your password",
        description="Revokes every refresh token you hold and the access tokens issued before.",
        request=PasswordChangeSerializer,
        responses={
            204: NO_CONTENT,
            401: UNAUTHORIZED,
            403: detail("Current password is incorrect"),
            422: VALIDATION,
        },
    )
    @idempotent
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.user_change_password(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LoginView(APIView):
    """OAuth2 password flow: form fields `username` (the email) and `password`, or JSON."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_scope = "login"
    throttle_classes = [*APIView.throttle_classes, LoginEmailRateThrottle]

    @extend_schema(
        summary="Log in",
        tags=["auth"],
        description=(
            "OAuth2 password flow: form fields `username` (your email) and `password`. "
            "JSON with `username` or `email` works too."
        ),
        request={
            "application/x-www-form-urlencoded": LoginSerializer,
            "multipart/form-data": LoginSerializer,
            "application/json": LoginSerializer,
        },
        auth=[],
        responses={
            200: TokenPairSerializer,
            403: detail("Invalid Credentials"),
            422: VALIDATION,
            429: detail("Too many login attempts; see Retry-After."),
        },
    )
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.tokens_login(request=request, **serializer.validated_data))

    def finalize_response(self, request, response, *args, **kwargs):
        LoginEmailRateThrottle.settle(request)  # only a failed login keeps its try spent
        return super().finalize_response(request, response, *args, **kwargs)


class TokenRefreshView(APIView):
    """Trade a refresh token for a new pair; the old refresh token is revoked."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        summary="Refresh tokens",
        tags=["auth"],
        description="Returns a new pair; the refresh token sent is revoked (rotation).",
        request=RefreshTokenSerializer,
        examples=[REFRESH_EXAMPLE],
        auth=[],
        responses={
            200: TokenPairSerializer,
            401: detail("Token is invalid or expired (also a revoked or reused refresh token)"),
            422: VALIDATION,
        },
    )
    def post(self, request):
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.tokens_refresh(**serializer.validated_data))


class LogoutView(APIView):
    """Revoke one of the caller's refresh tokens."""

    @extend_schema(
        summary="Log out",
        tags=["auth"],
        description="Revokes the given refresh token.",
        request=RefreshTokenSerializer,
        examples=[REFRESH_EXAMPLE],
        responses={
            204: NO_CONTENT,
            401: UNAUTHORIZED,
            403: detail(
                "Not authorized to perform requested action (the refresh token is another user's)"
            ),
            422: VALIDATION,
        },
    )
    def post(self, request):
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.tokens_logout(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)
