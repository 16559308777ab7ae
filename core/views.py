"""Project-wide endpoints: the welcome, the health probe and JSON answers for unknown paths."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from .generics import APIView


@extend_schema(
    summary="Welcome",
    tags=["meta"],
    auth=[],
    responses=inline_serializer(
        "Welcome",
        {
            "message": serializers.CharField(),
            "docs": serializers.CharField(),
            "redoc": serializers.CharField(),
        },
    ),
)
@api_view(["GET"])
@authentication_classes([])  # public: a stale token must not turn the welcome into a 401
@permission_classes([AllowAny])
def root(request):
    """The original API's welcome, with directions to the documentation."""
    return Response({"message": "Welcome to socialapi", "docs": "/docs", "redoc": "/redoc"})


def bench_ceiling(request):
    """A constant JSON body: what the server and middleware cost alone (bench/run.py's ceiling).

    Routed only while settings.BENCH_CEILING is on.
    """
    return JsonResponse({"ok": True})


class BenchFloorView(APIView):
    """The least any authenticated read of the API costs (bench/run.py's `floor`): the API's
    base view, bearer authentication (the token's user from the shared cache), permissions and
    rate counters, and a constant body.

    Between the ceiling and a real endpoint, it tells the framework's share of a read from the
    endpoint's own. Routed only while settings.BENCH_CEILING is on; not in the API's schema.
    """

    schema = None

    def get(self, request):
        return Response({"ok": True})


@csrf_exempt  # a POST to an unknown path is a 404, not a CSRF failure
def not_found(request, exception=None, **kwargs):
    """404 for any path no route matches, as JSON (also Django's handler404)."""
    return JsonResponse({"detail": "Not Found"}, status=404)


def server_error(request):
    """Django's handler500, as JSON."""
    return JsonResponse({"detail": "Internal Server Error"}, status=500)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: only browser sessions meet CSRF checks; answer them in JSON too."""
    return JsonResponse({"detail": f"CSRF Failed: {reason}"}, status=403)


def bad_request(request, exception=None):
    """Django's handler400 (a bad Host header, say, fails before any view), as JSON."""
    return JsonResponse({"detail": "Bad Request"}, status=400)
