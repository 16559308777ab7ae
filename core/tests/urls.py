"""A URLconf for core's tests: the real routes plus views that fail on purpose."""

from django.core.exceptions import SuspiciousOperation
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from socialapi.urls import urlpatterns as project_urlpatterns


def crash(request):
    raise RuntimeError("a bug in a plain Django view")


def suspicious(request):
    raise SuspiciousOperation("a request that cannot be trusted")


class CrashingAPIView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request):
        raise RuntimeError("a bug in an API view")


urlpatterns = [
    path("test/crash", crash),
    path("test/suspicious", suspicious),
    path("test/api-crash", CrashingAPIView.as_view()),
    *project_urlpatterns,
]

handler400 = "core.views.bad_request"
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
