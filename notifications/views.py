"""HTTP endpoints of notifications: the caller's, newest first; the unread count; marking read."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from core import cache
from core.generics import APIView
from core.pagination import BeforeCursorPagination, plain_int
from core.schema import UNAUTHORIZED, VALIDATION, cursor_parameters

from . import selectors, services
from .serializers import MarkReadSerializer, NotificationSerializer, UnreadCountSerializer

NOTIFICATION_EXAMPLE = OpenApiExample(
    "Someone replied",
    value=[
        {
            "id": 88,
            "type": "reply",
            "actor": {"id": 9, "email": "bob@example.com", "created_at": "2026-11-20T18:02:11Z"},
            "post_id": 52,
            "comment_id": 31,
            "created_at": "2026-12-02T09:01:00Z",
            "read": False,
        }
    ],
    response_only=True,
)


class NotificationsView(APIView):
    """The caller's notifications, newest first, paged by cursor like the feed."""

    def plan_reads(self, request, member_id):
        if member_id is not None and "before" not in request.query_params:
            limit = plain_int(request.query_params.get("limit"), default=20)
            if limit:
                cache.want(request, entries=selectors.first_page_key(member_id, min(limit, 100)))

    @extend_schema(
        summary="Your notifications",
        tags=["notifications"],
        description="Newest first: follows, likes of your posts, comments on them and replies "
        "to your comments; none of your own actions, none across a block. A like or follow "
        "taken back takes its notification with it. Paged by cursor: follow "
        '`Link: <...>; rel="next"`.',
        parameters=cursor_parameters(),
        examples=[NOTIFICATION_EXAMPLE],
        responses={
            200: NotificationSerializer(many=True),
            401: UNAUTHORIZED,
            422: VALIDATION,
        },
    )
    def get(self, request):
        paginator = BeforeCursorPagination()
        paginator.read_params(request)
        data, next_row = selectors.page(request=request, user=request.user, paginator=paginator)
        return paginator.get_paginated_response(data, next_row=next_row)


class UnreadView(APIView):
    """How many of the caller's notifications are unread (none across a block)."""

    def plan_reads(self, request, member_id):
        if member_id is not None:
            cache.want(request, entries=selectors.unread_key(member_id))

    @extend_schema(
        summary="How many notifications you have not read",
        tags=["notifications"],
        examples=[OpenApiExample("Three", value={"count": 3}, response_only=True)],
        responses={200: UnreadCountSerializer, 401: UNAUTHORIZED},
    )
    def get(self, request):
        return Response({"count": selectors.unread_count(request=request, user=request.user)})


class MarkReadView(APIView):
    """Mark the caller's notifications read: up to `up_to_id`, or all of them."""

    @extend_schema(
        summary="Mark notifications read",
        tags=["notifications"],
        request=MarkReadSerializer,
        examples=[OpenApiExample("Up to 88", value={"up_to_id": 88}, request_only=True)],
        responses={
            204: OpenApiResponse(description="Marked; no body."),
            401: UNAUTHORIZED,
            422: VALIDATION,
        },
    )
    def post(self, request):
        serializer = MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.mark_read(user=request.user, up_to_id=serializer.validated_data.get("up_to_id"))
        return Response(status=status.HTTP_204_NO_CONTENT)
