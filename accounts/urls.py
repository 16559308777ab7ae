"""Routes of the accounts API; each answers with and without a trailing slash."""

from django.urls import re_path

from . import views

urlpatterns = [
    re_path(r"^users/?$", views.UserCreateView.as_view(), name="user-create"),
    re_path(r"^users/me/?$", views.MeView.as_view(), name="user-me"),
    re_path(r"^users/me/password/?$", views.PasswordChangeView.as_view(), name="user-password"),
    re_path(r"^users/(?P<pk>[^/]+)/?$", views.UserDetailView.as_view(), name="user-detail"),
    re_path(r"^login/?$", views.LoginView.as_view(), name="login"),
    re_path(r"^token/refresh/?$", views.TokenRefreshView.as_view(), name="token-refresh"),
    re_path(r"^logout/?$", views.LogoutView.as_view(), name="logout"),
]
