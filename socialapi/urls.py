"""Project routes: the API paths of ../shared/API.md, the admin, and a JSON 404 for the rest."""

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from core import views as core_views

urlpatterns = [
    path("", core_views.root, name="root"),
    path("admin", RedirectView.as_view(url="/admin/", permanent=True)),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("posts.urls")),
    path("", include("moderation.urls")),
    # Last: any other path is a JSON 404, whatever DEBUG says.
    re_path(r"^.*$", core_views.not_found),
]

handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
