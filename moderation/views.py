"""HTTP endpoints for moderation that members use; staff work in the admin."""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.generics import parse_id

from . import services
from .serializers import ReportSerializer


class PostReportView(APIView):
    """Report a post to the moderators."""

    def post(self, request, pk):
        serializer = ReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = services.report_create(
            reporter=request.user, post_id=parse_id(pk), **serializer.validated_data
        )
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)
