"""Project routes: the API paths of docs/api.md, the admin, and a JSON 404 for the rest."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.renderers import OpenApiJsonRenderer2
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from core import views as core_views
from core.health import HealthView
from core.metrics import metrics

urlpatterns = [
    path("", core_views.root, name="root"),
    re_path(r"^healthz/?$", HealthView.as_view(), name="health"),
    re_path(r"^metrics/?$", metrics, name="metrics"),  # Prometheus; not in the API's schema
    path("admin", RedirectView.as_view(url="/admin/", permanent=True)),
    path("admin/", admin.site.urls),
    # The paths the original FastAPI project served its documentation on.
    re_path(
        r"^openapi\.json/?$",
        SpectacularJSONAPIView.as_view(renderer_classes=[OpenApiJsonRenderer2]),  # plain JSON
        name="schema",
    ),
    # The pages are a template each, never throttled: their errors would be HTML, and the schema
    # they load is throttled, with JSON errors.
    re_path(
        r"^docs/?$",
        SpectacularSwaggerView.as_view(url_name="schema", throttle_classes=[]),
        name="docs",
    ),
    re_path(
        r"^redoc/?$",
        SpectacularRedocView.as_view(url_name="schema", throttle_classes=[]),
        name="redoc",
    ),
    path("api-auth/", include("rest_framework.urls")),  # log-in link of the browsable API
    path("", include("social.urls")),  # first: its profiles answer GET /users/{id} and /users/me
    path("", include("accounts.urls")),
    path("", include("posts.urls")),
    path("", include("comments.urls")),
    path("", include("notifications.urls")),
    path("", include("moderation.urls")),
    # Last: any other path is a JSON 404, whatever DEBUG says.
    re_path(r"^.*$", core_views.not_found),
]

if settings.BENCH_CEILING:  # bench/run.py's reference: the stack's cost with no work in the view
    urlpatterns[:0] = [
        re_path(r"^bench/ceiling/?$", core_views.bench_ceiling),
        re_path(r"^bench/floor/?$", core_views.BenchFloorView.as_view()),
    ]

handler400 = "core.views.bad_request"
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
