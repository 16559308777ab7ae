"""HTTP endpoints for users and tokens; each delegates its work to accounts.services."""

from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from core.generics import APIView, IdLookupAPIView

from . import services
from .models import User
from .serializers import (
    LoginSerializer,
    PasswordChangeSerializer,
    RefreshTokenSerializer,
    UserCreateSerializer,
    UserSerializer,
    UserUpdateSerializer,
)


class UserCreateView(APIView):
    """Sign up with an email and a password."""

    permission_classes = [AllowAny]
    authentication_classes = []

    def post(self, request):
        serializer = UserCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_create(**serializer.validated_data)
        return Response(
            UserSerializer(user).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/users/{user.pk}"},
        )


class UserDetailView(IdLookupAPIView):
    """A user's public profile."""

    permission_classes = [AllowAny]
    authentication_classes = []  # public: a stale token must not turn it into a 401
    queryset = User.objects.all()
    serializer_class = UserSerializer
    not_found_message = "User with id: {id} does not exist"

    def get(self, request, pk):
        return Response(self.get_serializer(self.get_object()).data)


class MeView(APIView):
    """The caller's own profile."""

    def get(self, request):
        return Response(UserSerializer(request.user).data)

    def patch(self, request):
        serializer = UserUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, **serializer.validated_data)
        return Response(UserSerializer(user).data)


class PasswordChangeView(APIView):
    """Change the caller's password; every refresh token they hold is revoked."""

    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.user_change_password(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LoginView(APIView):
    """OAuth2 password flow: form fields `username` (the email) and `password`, or JSON."""

    permission_classes = [AllowAny]
    authentication_classes = []

    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.tokens_login(request=request, **serializer.validated_data))


class TokenRefreshView(APIView):
    """Trade a refresh token for a new pair; the old refresh token is revoked."""

    permission_classes = [AllowAny]
    authentication_classes = []

    def post(self, request):
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.tokens_refresh(**serializer.validated_data))


class LogoutView(APIView):
    """Revoke one of the caller's refresh tokens."""

    def post(self, request):
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.tokens_logout(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)
