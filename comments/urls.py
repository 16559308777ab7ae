"""Routes of comments; each answers with and without a trailing slash."""

from django.urls import re_path

from . import views

urlpatterns = [
    re_path(
        r"^posts/(?P<pk>[^/]+)/comments/?$", views.PostCommentsView.as_view(), name="post-comments"
    ),
    re_path(r"^comments/(?P<pk>[^/]+)/?$", views.CommentView.as_view(), name="comment"),
]
