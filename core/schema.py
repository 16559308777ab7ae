"""OpenAPI pieces drf-spectacular cannot infer: the login flow and the error shapes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers


class BearerJWTScheme(OpenApiAuthenticationExtension):
    """Describe our JWT auth as FastAPI did: OAuth2 password flow on `/login`.

    Swagger UI's "Authorize" then asks for email (as username) and password, posts them to
    `/login`, and sends the access token as `Authorization: Bearer ...`.
    """

    target_class = "core.authentication.BearerJWTAuthentication"
    name = "OAuth2PasswordBearer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "flows": {"password": {"tokenUrl": "/login", "scopes": {}}},
        }


DetailSerializer = inline_serializer("Detail", {"detail": serializers.CharField()})
MessageSerializer = inline_serializer("Message", {"message": serializers.CharField()})

ValidationErrorSerializer = inline_serializer(
    "ValidationError",
    {
        "detail": inline_serializer(
            "ValidationErrorItem",
            {
                "loc": serializers.ListField(
                    child=serializers.CharField(),
                    help_text='Where the problem is, e.g. ["body", "email"] or ["query", "limit"].',
                ),
                "msg": serializers.CharField(),
                "type": serializers.CharField(),
            },
            many=True,
        )
    },
)


def detail(description: str) -> OpenApiResponse:
    return OpenApiResponse(DetailSerializer, description=description)


def skip_limit_parameters(items: str, *, default_limit: int = 20) -> list[OpenApiParameter]:
    """`skip`/`limit` and the `X-Total-Count` and `Link` headers of a list of `items`."""
    return [
        OpenApiParameter(
            "limit",
            OpenApiTypes.INT,
            description=f"How many (default {default_limit}; above 100 counts as 100).",
        ),
        OpenApiParameter(
            "skip", OpenApiTypes.INT, description="How many to pass over (default 0)."
        ),
        OpenApiParameter(
            "X-Total-Count",
            OpenApiTypes.INT,
            OpenApiParameter.HEADER,
            response=[200],
            description=f"How many {items} the list holds, over all pages.",
        ),
        OpenApiParameter(
            "Link",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            response=[200],
            description='URLs of the neighbouring pages: `<...>; rel="next", <...>; rel="prev"`.',
        ),
    ]


def cursor_parameters() -> list[OpenApiParameter]:
    """`limit` and `before`, and the `Link` header, of a list paged by cursor (newest first)."""
    return [
        OpenApiParameter(
            "limit", OpenApiTypes.INT, description="How many (default 20; above 100: 100)."
        ),
        OpenApiParameter(
            "before",
            OpenApiTypes.STR,
            description="The opaque cursor of the previous page's `Link` header.",
        ),
        OpenApiParameter(
            "Link",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            response=[200],
            description='The next page\'s URL: `<...>; rel="next"`.',
        ),
    ]


UNAUTHORIZED = detail("Missing, invalid, expired or revoked token, or a suspended user.")
VALIDATION = OpenApiResponse(ValidationErrorSerializer, description="Invalid input.")


# The original API's spellings: collections with a trailing slash, the rest without one.
# (Every path answers both ways; the schema names one.)
SLASHED_PATHS = {"/", "/users/", "/posts/", "/vote/"}


def original_paths(result, generator, request, public):
    """drf-spectacular postprocessing hook: write paths as the original API's clients know them."""
    result["paths"] = {
        path if path in SLASHED_PATHS else path.rstrip("/"): item
        for path, item in result["paths"].items()
    }
    return result


def throttled_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: every throttled operation may answer 429.

    Each endpoint has a per-client and a per-user rate (THROTTLE_ANON, THROTTLE_USER); saying
    so on every operation is what the schema owes a client, and is not worth a decorator each.
    """
    too_many = {
        "description": "Too many requests; retry after the Retry-After header's seconds.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}},
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    }
    for path, item in result["paths"].items():
        if path == "/healthz":
            continue  # a health probe is never throttled
        for operation in item.values():
            operation["responses"].setdefault("429", too_many)
    return result
