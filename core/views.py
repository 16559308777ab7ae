"""Project-wide endpoints: the welcome, the health probe and JSON answers for unknown paths."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response


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
