"""OpenAPI pieces drf-spectacular cannot infer: the login flow and the error shapes."""

from django.conf import settings
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

# Conditional requests (core.conditional), on the operations that honour them.
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='ETags you hold (`"..."` or `W/"..."`, comma-separated, or `*`): a 304 with no '
    "body when one is current.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag you read (or `*`): the change is made only if it is still current, "
    "else a 412 and nothing changes.",
)
NOT_MODIFIED = OpenApiResponse(description="Not modified: your If-None-Match is current; no body.")
STALE = detail("The resource has changed since you read it (If-Match); nothing changed.")


def etag_header(*codes: int, of: str) -> OpenApiParameter:
    """The `ETag` response header of `codes`: the tag of what `of` answers now."""
    return OpenApiParameter(
        "ETag",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=list(codes),
        description=f"The tag of what {of} answers now: for If-None-Match and If-Match.",
    )


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


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    pattern=r"^[ -~]{1,255}$",
    description="1 to 255 printable ASCII characters. Send the same key again to retry safely: "
    f"for {settings.IDEMPOTENCY_KEY_HOURS} hours the first answer to it is replayed (with "
    "`Idempotent-Replayed: true`) and the request has its effect once.",
)


def idempotency_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: what the operations taking `Idempotency-Key` add.

    The header marks them (`@idempotent` in core.idempotency documents it): a replayed answer,
    a 409 while the first request runs and a 422 for a key used for another request.
    """
    replayed = {
        "description": "`true` when this is the replay of the first answer to the key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
    for item in result["paths"].values():
        for operation in item.values():
            if not any(
                parameter.get("in") == "header" and parameter.get("name") == "Idempotency-Key"
                for parameter in operation.get("parameters", [])
            ):
                continue
            responses = operation["responses"]
            for code, response in responses.items():
                if code.isdigit() and int(code) < 500 and code not in ("401", "429"):  # kept ones
                    response.setdefault("headers", {})["Idempotent-Replayed"] = replayed
            _add_case(
                responses,
                "409",
                "#/components/schemas/Detail",
                "A request with this Idempotency-Key is still running.",
            )
            _add_case(
                responses,
                "422",
                "#/components/schemas/ValidationError",
                "The Idempotency-Key is malformed, or was used for a different request.",
            )
    return result


def _add_case(responses: dict, code: str, schema_ref: str, description: str) -> None:
    """Document one more reason for `code`, beside the operation's own if it has one."""
    if code in responses:
        responses[code] = {
            **responses[code],
            "description": f"{responses[code]['description']} Or: {description[0].lower()}"
            f"{description[1:]}",
        }
    else:
        responses[code] = {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": schema_ref}}},
        }
