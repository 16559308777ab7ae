"""HTTP endpoints for posts and votes."""

import functools

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

from core import cache
from core.exceptions import RequestValidationError
from core.generics import APIView, IdLookupAPIView, parse_id
from core.pagination import SkipLimitPagination
from core.schema import UNAUTHORIZED, VALIDATION, MessageSerializer, detail

from . import services
from .models import Post
from .permissions import IsOwnerOrReadOnly
from .serializers import PostOutSerializer, PostSearchSerializer, PostSerializer, VoteSerializer

POST_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
NOT_FOUND = detail("No post with this id that you can see.")
NOT_OWNER = detail("Not authorized to perform requested action (not the owner).")
# What a change to one post can answer besides success.
OWNER_WRITE_ERRORS = {401: UNAUTHORIZED, 403: NOT_OWNER, 404: NOT_FOUND, 422: VALIDATION}
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
            OpenApiParameter("search", OpenApiTypes.STR, description="Title contains (any case)."),
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
        parameters=[POST_ID],
        responses={200: PostOutSerializer, 401: UNAUTHORIZED, 404: NOT_FOUND, 422: VALIDATION},
    ),
    update=extend_schema(
        summary="Replace a post",
        description="A body without `published` publishes the post.",
        parameters=[POST_ID],
        examples=[POST_EXAMPLE],
        responses={200: PostSerializer, **OWNER_WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a post",
        parameters=[POST_ID],
        responses={200: PostSerializer, **OWNER_WRITE_ERRORS},
    ),
    destroy=extend_schema(
        summary="Delete a post and its votes",
        parameters=[POST_ID],
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
        posts = Post.objects.visible_to(self.request.user).select_related("owner")
        if self.action in ("list", "retrieve"):
            posts = posts.with_vote_counts()
        return posts.newest_first()

    def get_serializer_class(self):
        return PostOutSerializer if self.action in ("list", "retrieve") else PostSerializer

    def filter_queryset(self, queryset):
        return queryset.search(self.search_term()) if self.action == "list" else queryset

    def search_term(self) -> str:
        params = PostSearchSerializer(data=self.request.query_params)
        if not params.is_valid():
            raise RequestValidationError(params.errors, location="query")
        return params.validated_data["search"]

    # Reads go through the shared cache (core.cache): the same answer, and no query on a hit.
    # A count moves with posts and users (staff status changes what one sees); a page also
    # with votes (counts) and users (owner emails).
    COUNT_VERSIONS = ("posts", "users")
    PAGE_VERSIONS = ("posts", "votes", "users")

    def list(self, request, *args, **kwargs):
        scope = f"{request.user.pk}:{cache.digest(self.search_term())}"  # a bad one is a 422
        paginator = self.paginator
        paginator.read_params(request)
        # Building the queryset costs as much as a cache hit: only on a miss, and only once.
        posts = functools.cache(lambda: self.filter_queryset(self.get_queryset()))
        paginator.count = cache.read_through(
            request,
            f"posts:count:{scope}",
            versions_of=self.COUNT_VERSIONS,
            compute=lambda: posts().count(),
        )
        data = cache.read_through(
            request,
            f"posts:page:{scope}:{paginator.limit}:{paginator.offset}",
            versions_of=self.PAGE_VERSIONS,
            compute=lambda: list(self.get_serializer(paginator.page(posts()), many=True).data),
        )
        return paginator.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs):
        pk = parse_id(kwargs["pk"])
        data = cache.read_through(
            request,
            f"posts:detail:{request.user.pk}:{pk}",
            versions_of=self.PAGE_VERSIONS,
            compute=self.object_data_or_none,
        )
        if data is None:
            raise self.not_found(pk)
        return Response(data)

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)

    def perform_destroy(self, instance):
        services.post_delete(post=instance)

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
            404: detail("No such post, or (dir 0) no vote to delete."),
            409: detail("Already voted on this post (dir 1)."),
            422: VALIDATION,
        },
    )
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
