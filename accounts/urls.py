"""Routes of the accounts API; each answers with and without a trailing slash.

`GET /users/{id}` and `/users/me` answer a `Profile` (a user with their counts): social.urls
routes them, with `PATCH /users/me` (its If-Match and ETag are the `Profile`'s).
"""

from django.urls import re_path

from . import views

urlpatterns = [
    re_path(r"^users/?$", views.UserCreateView.as_view(), name="user-create"),
    re_path(r"^users/me/password/?$", views.PasswordChangeView.as_view(), name="user-password"),
    re_path(r"^login/?$", views.LoginView.as_view(), name="login"),
    re_path(r"^token/refresh/?$", views.TokenRefreshView.as_view(), name="token-refresh"),
    re_path(r"^logout/?$", views.LogoutView.as_view(), name="logout"),
]
