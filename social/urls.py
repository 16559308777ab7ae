"""Routes of the graph; each answers with and without a trailing slash.

Included before accounts' routes: `GET /users/{id}` and `GET /users/me` answer a `Profile` here.
"""

from django.urls import re_path

from . import views

urlpatterns = [
    re_path(r"^feed/?$", views.FeedView.as_view(), name="feed"),
    re_path(r"^users/me/?$", views.MeView.as_view(), name="user-me"),
    re_path(r"^users/me/blocks/?$", views.BlocksView.as_view(), name="user-blocks"),
    re_path(r"^users/(?P<pk>[^/]+)/follow/?$", views.FollowView.as_view(), name="user-follow"),
    re_path(r"^users/(?P<pk>[^/]+)/block/?$", views.BlockView.as_view(), name="user-block"),
    re_path(
        r"^users/(?P<pk>[^/]+)/followers/?$", views.FollowersView.as_view(), name="user-followers"
    ),
    re_path(
        r"^users/(?P<pk>[^/]+)/following/?$", views.FollowingView.as_view(), name="user-following"
    ),
    re_path(r"^users/(?P<pk>[^/]+)/?$", views.ProfileView.as_view(), name="user-detail"),
]
