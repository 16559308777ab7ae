"""HTTP endpoints of the graph: profiles, follows, blocks, the lists of them, and the feed."""

from operator import attrgetter

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.models import Block
from accounts.serializers import UserSerializer, UserUpdateSerializer, user_out
from accounts.views import EMAIL_TAKEN
from core import cache, conditional
from core.generics import APIView, id_or_none, parse_id
from core.idempotency import idempotent
from core.pagination import BeforeCursorPagination, SkipLimitPagination, plain_int
from core.schema import (
    IF_MATCH,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    STALE,
    UNAUTHORIZED,
    VALIDATION,
    MessageSerializer,
    cursor_parameters,
    detail,
    etag_header,
    id_parameter,
    skip_limit_parameters,
)
from posts.serializers import PostOutSerializer

from . import selectors, services
from .models import Follow
from .serializers import ProfileSerializer

USER_ID = id_parameter()
NO_SUCH_USER = detail("User with id: {id} does not exist")
DONE = OpenApiResponse(description="Done (also when there was nothing to undo); no body.")
PAGE_PARAMETERS = skip_limit_parameters("members")
ME_PATH = "`GET /users/me`"


PROFILE_EXAMPLE = OpenApiExample(
    "A member seen by someone who follows them",
    value={
        "id": 7,
        "email": "ann@example.com",
        "created_at": "2026-11-02T09:15:00Z",
        "posts_count": 12,
        "followers_count": 40,
        "following_count": 18,
        "following": True,
        "followed_by": False,
    },
    response_only=True,
)
MEMBERS_EXAMPLE = OpenApiExample(
    "A page of members",
    value=[{"id": 9, "email": "bob@example.com", "created_at": "2026-11-20T18:02:11Z"}],
    response_only=True,
)
BLOCKED_EXAMPLE = OpenApiExample("Blocked", value={"message": "blocked"}, response_only=True)
FEED_EXAMPLE = OpenApiExample(
    "A page of the feed",
    value=[
        {
            "Post": {
                "id": 52,
                "title": "Shipped it",
                "content": "The feed pages by cursor now.",
                "published": True,
                "created_at": "2026-12-02T08:30:00Z",
                "owner_id": 9,
                "owner": {
                    "id": 9,
                    "email": "bob@example.com",
                    "created_at": "2026-11-20T18:02:11Z",
                },
            },
            "votes": 3,
            "voted": False,
        }
    ],
    response_only=True,
)


class GraphPagination(SkipLimitPagination):
    """The graph's lists page 20 members at a time unless asked otherwise."""

    default_limit = 20


class ProfileView(APIView):
    """A member's profile; with a valid token, also how the caller stands with them."""

    permission_classes = [AllowAny]

    def perform_authentication(self, request):
        """A token that does not hold is ignored: the anonymous read, never a 401 (a client
        sending a stale token to a public endpoint still gets its answer)."""
        try:
            _ = request.user
        except AuthenticationFailed:
            pass  # DRF left the anonymous user on the request

    def plan_reads(self, request, member_id):
        if (pk := id_or_none(self.kwargs["pk"])) is not None:
            cache.want(request, entries=selectors.profile_keys(pk, member_id))

    @extend_schema(
        summary="Get a member's profile",
        description="`following` and `followed_by` only with a valid bearer token (any other "
        "token is ignored here).",
        parameters=[USER_ID, IF_NONE_MATCH, etag_header(200, 304, of="`GET /users/{id}`")],
        examples=[PROFILE_EXAMPLE],
        responses={
            200: ProfileSerializer,
            304: NOT_MODIFIED,
            404: NO_SUCH_USER,
            422: VALIDATION,
        },
    )
    def get(self, request, pk):
        pk = parse_id(pk)
        data = selectors.profile(request=request, viewer=request.user, user_id=pk)
        if data is None:
            raise services.member_not_found(pk)
        return conditional.read_response(request, data)


class MeView(APIView):
    """The caller's own profile, with their counts; and a change of their email."""

    @extend_schema(
        summary="Your profile",
        parameters=[IF_NONE_MATCH, etag_header(200, 304, of=ME_PATH)],
        examples=[PROFILE_EXAMPLE],
        responses={200: ProfileSerializer, 304: NOT_MODIFIED, 401: UNAUTHORIZED},
    )
    def get(self, request):
        data = selectors.profile(request=request, viewer=request.user, user_id=request.user.pk)
        return conditional.read_response(request, data)

    @extend_schema(
        summary="Change your email",
        description="If-Match and the ETag answered are those of your profile (`GET /users/me`).",
        parameters=[IF_MATCH, etag_header(200, of=ME_PATH)],
        request=UserUpdateSerializer,
        responses={
            200: UserSerializer,
            401: UNAUTHORIZED,
            409: EMAIL_TAKEN,
            412: STALE,
            422: VALIDATION,
        },
    )
    def patch(self, request):
        serializer = UserUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        shown = services.me_update(
            user=request.user, if_match=conditional.if_match(request), **serializer.validated_data
        )
        return Response(user_out(request.user), headers={"ETag": conditional.etag(shown)})


class FollowView(APIView):
    """Follow a member, or stop; both may be retried safely."""

    @extend_schema(
        summary="Follow a member",
        tags=["graph"],
        parameters=[USER_ID],
        request=None,
        examples=[PROFILE_EXAMPLE],
        responses={
            200: OpenApiResponse(
                ProfileSerializer, description="Already following: their profile."
            ),
            201: OpenApiResponse(ProfileSerializer, description="Now following: their profile."),
            401: UNAUTHORIZED,
            403: detail("You cannot follow this user"),
            404: NO_SUCH_USER,
            422: VALIDATION,
        },
    )
    @idempotent
    def post(self, request, pk):
        followee, created = services.follow_create(follower=request.user, followee_id=parse_id(pk))
        data = selectors.profile(request=request, viewer=request.user, user_id=followee.pk)
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="Stop following a member",
        tags=["graph"],
        parameters=[USER_ID],
        responses={204: DONE, 401: UNAUTHORIZED, 404: NO_SUCH_USER, 422: VALIDATION},
    )
    def delete(self, request, pk):
        services.follow_delete(follower=request.user, followee_id=parse_id(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BlockView(APIView):
    """Block a member, or lift the block; both may be retried safely."""

    @extend_schema(
        summary="Block a member",
        tags=["graph"],
        description="Ends follows both ways. Neither of you then sees the other's posts, nor "
        "follows, votes on or answers what the other wrote.",
        parameters=[USER_ID],
        request=None,
        examples=[BLOCKED_EXAMPLE],
        responses={
            200: OpenApiResponse(MessageSerializer, description='Already blocked: "blocked".'),
            201: OpenApiResponse(MessageSerializer, description='"blocked".'),
            401: UNAUTHORIZED,
            404: NO_SUCH_USER,
            422: VALIDATION,
        },
    )
    @idempotent
    def post(self, request, pk):
        created = services.block_create(blocker=request.user, blocked_id=parse_id(pk))
        return Response(
            {"message": "blocked"},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Lift a block",
        tags=["graph"],
        parameters=[USER_ID],
        responses={204: DONE, 401: UNAUTHORIZED, 404: NO_SUCH_USER, 422: VALIDATION},
    )
    def delete(self, request, pk):
        services.block_delete(blocker=request.user, blocked_id=parse_id(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberListView(APIView):
    """A page of members related to someone, newest first, with `Link` and `X-Total-Count`."""

    pagination_class = GraphPagination

    def page(self, request, *, total: int, rows, member) -> Response:
        paginator = self.pagination_class()
        paginator.read_params(request)
        paginator.count = total
        return paginator.get_paginated_response(
            [user_out(member(row)) for row in paginator.page(rows)]
        )


class FollowListView(MemberListView):
    """Who follows a member, or whom they follow (suspended members left out)."""

    permission_classes = [AllowAny]
    authentication_classes = []  # public: a stale token must not turn it into a 401
    direction = "followers"  # or "following": which kept count is the total
    rows_of = staticmethod(Follow.objects.followers_of)  # the member's follows, newest first
    other = "follower"  # the member each follow shows

    def get(self, request, pk):
        pk = parse_id(pk)
        total = selectors.follow_count(pk, self.direction)
        if total is None:
            raise services.member_not_found(pk)
        rows = self.rows_of(pk).select_related(self.other)
        return self.page(request, total=total, rows=rows, member=attrgetter(self.other))


def _follow_list_schema(summary: str):
    return extend_schema(
        summary=summary,
        tags=["graph"],
        parameters=[USER_ID, *PAGE_PARAMETERS],
        examples=[MEMBERS_EXAMPLE],
        responses={200: UserSerializer(many=True), 404: NO_SUCH_USER, 422: VALIDATION},
    )


@extend_schema_view(get=_follow_list_schema("Who follows a member"))
class FollowersView(FollowListView):
    pass


@extend_schema_view(get=_follow_list_schema("Whom a member follows"))
class FollowingView(FollowListView):
    direction = "following"
    rows_of = staticmethod(Follow.objects.following_of)
    other = "followee"


class BlocksView(MemberListView):
    """The members the caller blocked, newest block first."""

    @extend_schema(
        summary="Members you blocked",
        tags=["graph"],
        parameters=PAGE_PARAMETERS,
        examples=[MEMBERS_EXAMPLE],
        responses={200: UserSerializer(many=True), 401: UNAUTHORIZED, 422: VALIDATION},
    )
    def get(self, request):
        blocks = Block.objects.filter(blocker=request.user)
        rows = blocks.select_related("blocked").order_by("-created_at", "-id")
        return self.page(request, total=blocks.count(), rows=rows, member=lambda row: row.blocked)


class FeedView(APIView):
    """The caller's home feed: the posts of whom they follow, and their own, newest first."""

    def plan_reads(self, request, member_id):
        query = request.query_params
        limit = plain_int(query.get("limit"), default=BeforeCursorPagination.default_limit)
        if member_id and limit and "before" not in query:
            limit = min(limit, BeforeCursorPagination.max_limit)
            selectors.plan_feed(request, member_id, limit)

    @extend_schema(
        summary="Your home feed",
        tags=["graph"],
        description="Published posts you can see, by the members you follow and by you, newest "
        'first. Paged by cursor: follow `Link: <...>; rel="next"` (present while there is '
        "more); a post written meanwhile never shifts the next page. No `X-Total-Count`.",
        parameters=cursor_parameters(),
        examples=[FEED_EXAMPLE],
        responses={200: PostOutSerializer(many=True), 401: UNAUTHORIZED, 422: VALIDATION},
    )
    def get(self, request):
        paginator = BeforeCursorPagination()
        paginator.read_params(request)
        page, next_row = selectors.feed(request=request, user=request.user, paginator=paginator)
        return paginator.get_paginated_response(page, next_row=next_row)
