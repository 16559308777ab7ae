"""OpenAPI pieces drf-spectacular cannot infer: the login flow, the error shapes, the bounds of
ids and paging parameters, and the rules of request strings."""

from django.conf import settings
from drf_spectacular import openapi
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


# What Python's str.isspace() counts as a space (its re's `\s` too), spelled out so that
# JavaScript and Rust validators read a pattern as Python does: DRF trims these.
SPACES = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


# Django's EmailValidator as one pattern without lookarounds (which not every validator reads):
# a dot-atom or quoted local part; host labels of letters (any script), digits and inner
# dashes; a top-level label of 2 to 63 letters and inner dashes, or punycode; or `localhost`.
# (Its `[IPv4 or IPv6]` literal domains are left out: that is Django's address check, not a
# pattern. The JSON Schema `email` format alone admits a one-letter top-level label.)
_ATOM = r"[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+"
_QUOTED = r'"(?:[\x01-\x08\x0b\x0c\x0e-\x1f!#-\[\]-\x7f]|\\[\x01-\x09\x0b\x0c\x0e-\x7f])*"'
_LETTER = r"a-zA-Z\u00a1-\uffff"
_LABEL = rf"[{_LETTER}0-9](?:[{_LETTER}0-9-]{{0,61}}[{_LETTER}0-9])?"
_TOP = rf"[{_LETTER}][{_LETTER}-]{{0,61}}[{_LETTER}]|[xX][nN]--[a-zA-Z0-9]{{1,59}}"
EMAIL_PATTERN = (
    rf"^(?:{_ATOM}(?:\.{_ATOM})*|{_QUOTED})@(?:{_LABEL}(?:\.{_LABEL})*\.(?:{_TOP})|localhost)$"
)


def text_pattern(field) -> str:
    """What DRF's CharField `field` refuses and lengths cannot say, as a pattern: a NUL
    (its ProhibitNullCharactersValidator); and, when it trims and refuses blanks, a text of
    spaces only."""
    if field.trim_whitespace and not field.allow_blank:
        return rf"^[^\x00]*[^\x00{SPACES}][^\x00]*$"
    return r"^[^\x00]*$"


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, adding to each request string the rules of DRF's CharField that
    lengths cannot say (`text_pattern`), and to a request field or body the rules it states in
    its `schema_rules()`; an email is Django's EmailValidator's pattern, not the `email` format."""

    def _get_serializer_field_meta(self, field, direction):
        # The meta is applied last, over what the field's type gave.
        meta = super()._get_serializer_field_meta(field, direction)
        if direction == "request" and isinstance(field, serializers.CharField):
            meta["pattern"] = text_pattern(field)
            if hasattr(field, "schema_rules"):
                meta.update(field.schema_rules())
        return meta

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and hasattr(serializer, "schema_rules"):
            schema.update(serializer.schema_rules())
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        if isinstance(field, serializers.EmailField):
            # The format admits a one-letter top-level label, which Django refuses, and
            # refuses the names of other scripts (`ann@bücher.de`), which Django stores.
            schema.pop("format", None)
            schema["pattern"] = EMAIL_PATTERN


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


INT64_MAX = 2**63 - 1


def integer_schema(*, minimum: int, default: int | None = None) -> dict:
    """An int64 parameter's schema: what the server reads is bounded by `minimum` and 2^63 - 1."""
    schema = {"type": "integer", "format": "int64", "minimum": minimum, "maximum": INT64_MAX}
    if default is not None:
        schema["default"] = default
    return schema


def id_parameter(description: str = "") -> OpenApiParameter:
    """`{id}` in a path. The server reads any int64 (past it: a 422); ids are positive, so a
    smaller one names nothing (a 404)."""
    return OpenApiParameter(
        "id", integer_schema(minimum=1), OpenApiParameter.PATH, description=description
    )


def limit_parameter(*, default: int) -> dict:
    """`limit` as an OpenAPI parameter object, as paginators describe theirs."""
    return {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": f"How many (default {default}; above 100 counts as 100).",
        "schema": integer_schema(minimum=0, default=default),
    }


SKIP_PARAMETER = {
    "name": "skip",
    "in": "query",
    "required": False,
    "description": "How many to pass over (default 0).",
    "schema": integer_schema(minimum=0, default=0),
}


def skip_limit_parameters(items: str, *, default_limit: int = 20) -> list[OpenApiParameter]:
    """`skip`/`limit` and the `X-Total-Count` and `Link` headers of a list of `items`."""
    limit = limit_parameter(default=default_limit)
    return [
        OpenApiParameter("limit", limit["schema"], description=limit["description"]),
        OpenApiParameter(
            "skip", SKIP_PARAMETER["schema"], description=SKIP_PARAMETER["description"]
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
    limit = limit_parameter(default=20)
    return [
        OpenApiParameter("limit", limit["schema"], description=limit["description"]),
        OpenApiParameter(
            "before",
            OpenApiTypes.STR,
            description="The opaque cursor of the previous page's `Link` header; any other "
            "value is a 422.",
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
