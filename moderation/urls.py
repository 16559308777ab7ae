"""Routes of the moderation API; each answers with and without a trailing slash."""

from django.urls import re_path

from . import views

urlpatterns = [
    re_path(r"^posts/(?P<pk>[^/]+)/report/?$", views.PostReportView.as_view(), name="post-report"),
    re_path(
        r"^comments/(?P<pk>[^/]+)/report/?$",
        views.CommentReportView.as_view(),
        name="comment-report",
    ),
]
