"""HTTP endpoints for posts and votes."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core import cache, conditional
from core.exceptions import RequestValidationError
from core.generics import APIView, IdLookupAPIView, id_or_none, parse_id
from core.idempotency import idempotent
from core.pagination import PAGE_DEFAULTS, SkipLimitPagination, plain_int, single
from core.schema import (
    IF_MATCH,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    STALE,
    UNAUTHORIZED,
    VALIDATION,
    MessageSerializer,
    detail,
    etag_header,
    id_parameter,
)

from . import entries, selectors, services
from .models import Post
from .permissions import IsOwnerOrReadOnly
from .serializers import (
    SEARCH_MAX_LENGTH,
    PostOutSerializer,
    PostSearchSerializer,
    PostSerializer,
    VoteSerializer,
)

POST_ID = id_parameter()
NOT_FOUND = detail("post with id: {id} was not found (also when you cannot see it)")
NOT_OWNER = detail("Not authorized to perform requested action (you are not the owner)")
# What a change to one post can answer besides success.
OWNER_WRITE_ERRORS = {
    401: UNAUTHORIZED,
    403: NOT_OWNER,
    404: NOT_FOUND,
    412: STALE,
    422: VALIDATION,
}
POST_PATH = "`GET /posts/{id}`"
# A change answered with the post: its new tag (of the `PostOut` a GET gives, not of this body).
CHANGE_PARAMETERS = [POST_ID, IF_MATCH, etag_header(200, of=POST_PATH)]
PAGE_HEADERS = [
    OpenApiParameter(
        "X-Total-Count",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        response=[200],
        description="How many posts match, over all pages.",
    ),
    OpenApiParameter(
        "Link",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200],
        description='URLs of the neighbouring pages: `<...>; rel="next", <...>; rel="prev"`.',
    ),
]
POST_EXAMPLE = OpenApiExample(
    "A post",
    value={"title": "Hello", "content": "My first post", "published": True},
    request_only=True,
)


@extend_schema_view(
    list=extend_schema(
        summary="List posts",
        description="Newest first. Drafts and hidden posts appear only to their owner.",
        parameters=[
            OpenApiParameter(
                "search",
                {
                    "type": "string",
                    "maxLength": SEARCH_MAX_LENGTH,
                    "pattern": r"^[^\x00]*$",  # the CharField refuses a NUL
                    "default": "",
                },
                description="Title contains (any case).",
            ),
            *PAGE_HEADERS,
        ],
        responses={200: PostOutSerializer(many=True), 401: UNAUTHORIZED, 422: VALIDATION},
    ),
    create=extend_schema(
        summary="Create a post",
        examples=[POST_EXAMPLE],
        parameters=[
            OpenApiParameter(
                "Location",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[201],
                description="The new post's path.",
            )
        ],
        responses={201: PostSerializer, 401: UNAUTHORIZED, 422: VALIDATION},
    ),
    retrieve=extend_schema(
        summary="Get a post",
        parameters=[POST_ID, IF_NONE_MATCH, etag_header(200, 304, of=POST_PATH)],
        responses={
            200: PostOutSerializer,
            304: NOT_MODIFIED,
            401: UNAUTHORIZED,
            404: NOT_FOUND,
            422: VALIDATION,
        },
    ),
    update=extend_schema(
        summary="Replace a post",
        description="A body without `published` publishes the post.",
        parameters=CHANGE_PARAMETERS,
        examples=[POST_EXAMPLE],
        responses={200: PostSerializer, **OWNER_WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a post",
        parameters=CHANGE_PARAMETERS,
        responses={200: PostSerializer, **OWNER_WRITE_ERRORS},
    ),
    destroy=extend_schema(
        summary="Delete a post and its votes",
        parameters=[POST_ID, IF_MATCH],
        responses={
            204: OpenApiResponse(description="Deleted."),
            **OWNER_WRITE_ERRORS,
        },
    ),
)
class PostViewSet(IdLookupAPIView, viewsets.ModelViewSet):
    """Posts: everyone signed in reads what is visible to them; owners write their own."""

    permission_classes = [IsAuthenticated, IsOwnerOrReadOnly]
    pagination_class = SkipLimitPagination
    not_found_message = "post with id: {id} was not found"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return Post.objects.visible_to(self.request.user).select_related("owner").newest_first()

    def get_serializer_class(self):
        return PostOutSerializer if self.action in ("list", "retrieve") else PostSerializer

    def search_term(self) -> str:
        if "search" not in self.request.query_params:
            return ""  # the usual list: nothing to validate
        params = PostSearchSerializer(data={"search": single(self.request.query_params, "search")})
        if not params.is_valid():
            raise RequestValidationError(params.errors, location="query")
        return params.validated_data["search"]

    # The reads are posts.selectors: the shared cache, or a fixed few queries, whatever the page.
    def list(self, request, *args, **kwargs):
        search = self.search_term()  # a bad one is a 422
        paginator = self.paginator
        paginator.read_params(request)
        page, paginator.count = selectors.post_list(
            request=request,
            user=request.user,
            search=search,
            limit=paginator.limit,
            offset=paginator.offset,
        )
        return paginator.get_paginated_response(page)

    def plan_reads(self, request, member_id):
        if self.action == "retrieve" and (pk := id_or_none(self.kwargs["pk"])) is not None:
            cache.want(request, entries=entries.post_entry_keys([pk]))
        elif self.action == "list" and member_id and "search" not in request.query_params:
            query = request.query_params
            limit, skip = (plain_int(query.get(name), default=d) for name, d in PAGE_DEFAULTS)
            if limit is not None and skip is not None:
                selectors.plan_post_list(request, member_id, limit=min(limit, 100), offset=skip)

    def retrieve(self, request, *args, **kwargs):
        pk = parse_id(kwargs["pk"])
        data = selectors.post_detail(request=request, user=request.user, post_id=pk)
        if data is None:
            raise self.not_found(pk)
        return conditional.read_response(request, data)

    @idempotent
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        shown = services.post_update(
            post=serializer.instance,
            user=request.user,
            changes=serializer.validated_data,
            if_match=conditional.if_match(request),
        )
        return Response(serializer.data, headers={"ETag": conditional.etag(shown)})

    def perform_destroy(self, instance):
        services.post_delete(
            post=instance, user=self.request.user, if_match=conditional.if_match(self.request)
        )

    def get_success_headers(self, data):
        return {"Location": f"/posts/{data['id']}"}


class VoteView(APIView):
    """Like (`dir` 1) or unlike (`dir` 0) a post."""

    @extend_schema(
        summary="Vote on a post",
        tags=["votes"],
        request=VoteSerializer,
        examples=[OpenApiExample("Like post 1", value={"post_id": 1, "dir": 1}, request_only=True)],
        responses={
            201: OpenApiResponse(
                MessageSerializer,
                description='"successfully added vote" or "successfully deleted vote".',
            ),
            401: UNAUTHORIZED,
            404: detail(
                "Post with id: {id} does not exist (also when you cannot see it); "
                "or, dir 0: Vote does not exist"
            ),
            409: detail("user {user_id} has already voted on post {post_id} (dir 1)"),
            422: VALIDATION,
        },
    )
    @idempotent
    def post(self, request):
        serializer = VoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        post_id = serializer.validated_data["post_id"]
        if serializer.validated_data["dir"] == 1:
            services.vote_create(user=request.user, post_id=post_id)
            message = "successfully added vote"
        else:
            services.vote_delete(user=request.user, post_id=post_id)
            message = "successfully deleted vote"
        return Response({"message": message}, status=status.HTTP_201_CREATED)
