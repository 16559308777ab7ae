"""HTTP endpoints for posts and votes."""

from rest_framework import status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.exceptions import RequestValidationError
from core.generics import APIView, IdLookupAPIView
from core.pagination import SkipLimitPagination

from . import services
from .models import Post
from .permissions import IsOwnerOrReadOnly
from .serializers import PostOutSerializer, PostSearchSerializer, PostSerializer, VoteSerializer


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
        if self.action != "list":
            return queryset
        params = PostSearchSerializer(data=self.request.query_params)
        if not params.is_valid():
            raise RequestValidationError(params.errors, location="query")
        return queryset.search(params.validated_data["search"])

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)

    def perform_destroy(self, instance):
        services.post_delete(post=instance)

    def get_success_headers(self, data):
        return {"Location": f"/posts/{data['id']}"}


class VoteView(APIView):
    """Like (`dir` 1) or unlike (`dir` 0) a post."""

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
