"""HTTP endpoints of comments: a post's thread, and each comment by id."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from core import conditional
from core.generics import APIView, id_or_none, parse_id
from core.idempotency import idempotent
from core.pagination import SkipLimitPagination
from core.schema import (
    IF_MATCH,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    STALE,
    UNAUTHORIZED,
    VALIDATION,
    detail,
    etag_header,
    id_parameter,
    skip_limit_parameters,
)
from posts.services import post_not_found

from . import selectors, services
from .serializers import CommentCreateSerializer, CommentEditSerializer, CommentSerializer

POST_ID = id_parameter("A post.")
COMMENT_ID = id_parameter()
NO_SUCH_POST = detail("Post with id: {id} does not exist (also when you cannot see it)")
NO_SUCH_COMMENT = detail("Comment with id: {id} does not exist (also when you cannot see it)")
COMMENT_PATH = "`GET /comments/{id}`"
COMMENT_EXAMPLE = OpenApiExample(
    "A reply",
    value={
        "id": 31,
        "post_id": 52,
        "parent_id": 30,
        "content": "Agreed, and the cursor keeps it stable.",
        "created_at": "2026-12-02T09:01:00Z",
        "edited_at": None,
        "author": {"id": 9, "email": "bob@example.com", "created_at": "2026-11-20T18:02:11Z"},
    },
    response_only=True,
)


class CommentPagination(SkipLimitPagination):
    default_limit = 20


class PostCommentsView(APIView):
    """A post's comments, oldest first; and a new comment or reply on it."""

    @property
    def throttle_scope(self):
        """New comments also count against THROTTLE_COMMENT (reading the thread does not)."""
        return "comment" if self.request.method == "POST" else None

    def plan_reads(self, request, member_id):
        if request.method == "GET" and (pk := id_or_none(self.kwargs["pk"])) is not None:
            selectors.plan_thread(request, pk)

    @extend_schema(
        summary="A post's comments",
        tags=["comments"],
        description="Oldest first (conversation order): the comments on the post that you can "
        "see. A hidden comment shows only to its author, the post's owner and staff.",
        parameters=[POST_ID, *skip_limit_parameters("comments")],
        examples=[COMMENT_EXAMPLE],
        responses={
            200: CommentSerializer(many=True),
            401: UNAUTHORIZED,
            404: NO_SUCH_POST,
            422: VALIDATION,
        },
    )
    def get(self, request, pk):
        pk = parse_id(pk)
        paginator = CommentPagination()
        paginator.read_params(request)
        found = selectors.thread_page(
            request=request,
            user=request.user,
            post_id=pk,
            limit=paginator.limit,
            offset=paginator.offset,
        )
        if found is None:
            raise post_not_found(pk)
        page, paginator.count = found
        return paginator.get_paginated_response(page)

    @extend_schema(
        summary="Comment on a post, or reply to a comment",
        tags=["comments"],
        parameters=[
            POST_ID,
            OpenApiParameter(
                "Location",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[201],
                description="The new comment's path.",
            ),
        ],
        request=CommentCreateSerializer,
        examples=[
            OpenApiExample(
                "A reply", value={"content": "Agreed.", "parent_id": 30}, request_only=True
            ),
            COMMENT_EXAMPLE,
        ],
        responses={
            201: CommentSerializer,
            401: UNAUTHORIZED,
            404: NO_SUCH_POST,
            422: OpenApiResponse(
                VALIDATION.response,
                description="Empty or too long content; or `parent_id` is not a comment on "
                'this post that you can see (`loc` `["body", "parent_id"]`).',
            ),
        },
    )
    @idempotent
    def post(self, request, pk):
        post_id = parse_id(pk)  # first: a bad id is the error to report, whatever the body
        serializer = CommentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = services.comment_create(
            author=request.user,
            post_id=post_id,
            content=serializer.validated_data["content"],
            parent_id=serializer.validated_data["parent_id"],
        )
        return Response(
            CommentSerializer(comment).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/comments/{comment.pk}"},
        )


class CommentView(APIView):
    """One comment: read it; its author edits it; its author, the post's owner or staff
    delete it (with its replies)."""

    @extend_schema(
        summary="Get a comment",
        tags=["comments"],
        parameters=[COMMENT_ID, IF_NONE_MATCH, etag_header(200, 304, of=COMMENT_PATH)],
        examples=[COMMENT_EXAMPLE],
        responses={
            200: CommentSerializer,
            304: NOT_MODIFIED,
            401: UNAUTHORIZED,
            404: NO_SUCH_COMMENT,
            422: VALIDATION,
        },
    )
    def get(self, request, pk):
        comment = services.comment_get_visible(user=request.user, comment_id=parse_id(pk))
        return conditional.read_response(request, CommentSerializer(comment).data)

    @extend_schema(
        summary="Edit your comment",
        tags=["comments"],
        description="Only `content` changes; `edited_at` is set.",
        parameters=[COMMENT_ID, IF_MATCH, etag_header(200, of=COMMENT_PATH)],
        request=CommentEditSerializer,
        examples=[
            OpenApiExample("New words", value={"content": "Fixed a typo."}, request_only=True),
            COMMENT_EXAMPLE,
        ],
        responses={
            200: CommentSerializer,
            401: UNAUTHORIZED,
            403: detail("Only the comment's author can edit it"),
            404: NO_SUCH_COMMENT,
            412: STALE,
            422: VALIDATION,
        },
    )
    def patch(self, request, pk):
        comment = services.comment_get_visible(user=request.user, comment_id=parse_id(pk))
        services.ensure_author(user=request.user, comment=comment)  # a 403 before a 422
        serializer = CommentEditSerializer(comment, data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = services.comment_update(
            user=request.user,
            comment=comment,
            content=serializer.validated_data["content"],
            if_match=conditional.if_match(request),
        )
        data = CommentSerializer(comment).data  # what a GET now answers
        return Response(data, headers={"ETag": conditional.etag(data)})

    @extend_schema(
        summary="Delete a comment and its replies",
        tags=["comments"],
        parameters=[COMMENT_ID, IF_MATCH],
        responses={
            204: OpenApiResponse(description="Deleted, with its replies."),
            401: UNAUTHORIZED,
            403: detail("Only the comment's author, the post's owner or staff can delete it"),
            404: NO_SUCH_COMMENT,
            412: STALE,
            422: VALIDATION,
        },
    )
    def delete(self, request, pk):
        comment = services.comment_get_visible(user=request.user, comment_id=parse_id(pk))
        services.comment_delete(
            user=request.user, comment=comment, if_match=conditional.if_match(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
