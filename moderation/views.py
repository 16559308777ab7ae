"""HTTP endpoints for moderation that members use; staff work in the admin."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from core.generics import APIView, parse_id
from core.idempotency import idempotent
from core.schema import UNAUTHORIZED, VALIDATION, detail, id_parameter

from . import services
from .serializers import CommentReportSerializer, ReportSerializer


class PostReportView(APIView):
    """Report a post to the moderators."""

    @extend_schema(
        summary="Report a post",
        tags=["moderation"],
        request=ReportSerializer,
        parameters=[id_parameter()],
        responses={
            201: ReportSerializer,
            401: UNAUTHORIZED,
            404: detail("post with id: {id} was not found (also when you cannot see it)"),
            409: detail("user {user_id} already has an open report on post {id}"),
            422: VALIDATION,
        },
    )
    @idempotent
    def post(self, request, pk):
        post_id = parse_id(pk)  # first: a bad id is the error to report, whatever the body
        serializer = ReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = services.report_create(
            reporter=request.user, post_id=post_id, **serializer.validated_data
        )
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)


class CommentReportView(APIView):
    """Report a comment to the moderators."""

    @extend_schema(
        summary="Report a comment",
        tags=["moderation"],
        request=ReportSerializer,
        parameters=[id_parameter()],
        responses={
            201: CommentReportSerializer,
            401: UNAUTHORIZED,
            404: detail("Comment with id: {id} does not exist (also when you cannot see it)"),
            409: detail("user {user_id} already has an open report on comment {id}"),
            422: VALIDATION,
        },
    )
    @idempotent
    def post(self, request, pk):
        comment_id = parse_id(pk)
        serializer = ReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = services.comment_report_create(
            reporter=request.user, comment_id=comment_id, **serializer.validated_data
        )
        return Response(CommentReportSerializer(report).data, status=status.HTTP_201_CREATED)
