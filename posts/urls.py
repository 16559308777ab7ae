"""Routes of the posts API; each answers with and without a trailing slash."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.trailing_slash = "/?"  # the constructor only takes a bool; the regex makes "/" optional
router.register("posts", views.PostViewSet, basename="post")

urlpatterns = [
    re_path(r"^vote/?$", views.VoteView.as_view(), name="vote"),
    *router.urls,
]
