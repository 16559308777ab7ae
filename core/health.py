"""GET /healthz: whether this instance can serve, for load balancers and uptime checks."""

import logging

from django.db import Error, connection
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .generics import APIView

logger = logging.getLogger("socialapi.health")

HealthSerializer = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "detail": serializers.CharField(required=False),
    },
)


class HealthView(APIView):
    """200 while the database answers, 503 when it does not; open to all and never throttled."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="Health check",
        tags=["meta"],
        auth=[],
        responses={
            200: OpenApiResponse(HealthSerializer, description='`{"status": "ok"}`'),
            503: OpenApiResponse(HealthSerializer, description="The database does not answer."),
        },
    )
    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except Error:  # OperationalError, InterfaceError: every kind of database failure
            logger.warning("Health check failed: the database did not answer", exc_info=True)
            return Response(
                {"status": "unavailable", "detail": "database unavailable"},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response({"status": "ok"})
