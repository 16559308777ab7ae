"""Routes of notifications; each answers with and without a trailing slash."""

from django.urls import re_path

from . import views

urlpatterns = [
    re_path(r"^notifications/?$", views.NotificationsView.as_view(), name="notifications"),
    re_path(r"^notifications/unread/?$", views.UnreadView.as_view(), name="notifications-unread"),
    re_path(r"^notifications/read/?$", views.MarkReadView.as_view(), name="notifications-read"),
]
