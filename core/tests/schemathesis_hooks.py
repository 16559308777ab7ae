"""Schemathesis hooks: the failures that no OpenAPI schema can avoid, and nothing else.

Loaded by `schemathesis.toml` (the CLI, from the repository's root) and so by
core/tests/test_fuzz_schema.py. Without Django: the CLI imports it on its own.

`positive_data_acceptance` says every request the schema admits is accepted. A few rules of
the server depend on what was sent before or on who asks, not on the request, so a schema-valid
request may rightly get a 422 for them. Each rule below drops exactly that failure: that check,
those operations, that 422 with that `loc` and message. Any other refusal still fails the run.

So that the rule of Idempotency-Key does not hide the rest, the key of each request generated
by fuzzing is made fresh (`map_headers`): a request is then a first one, as a client's would be.
(The coverage phase builds its requests without hooks, hence the rule.)

`negative_data_rejection` sends bodies the schema refuses, some of them not objects. A form
(urlencoded or multipart) carries named fields only: schemathesis then writes the value as text
in one part without a name, or as one field named after the whole text. The server reads a form
with no field it knows, which is what an empty form is (`{}`); where `{}` is a valid body, the
answer is a success, and says nothing about arrays. Those failures are dropped too.
"""

import itertools
import re
import uuid
from dataclasses import dataclass

import schemathesis


@dataclass(frozen=True)
class StateRule:
    operations: frozenset[str]  # "METHOD /path", as the schema spells them
    loc: tuple[str, ...]
    messages: tuple[str, ...]  # the 422's `msg`, or how it starts
    why: str


IDEMPOTENT_POSTS = frozenset(
    {
        "POST /users/",
        "POST /users/me/password",
        "POST /posts/",
        "POST /vote/",
        "POST /posts/{id}/comments",
        "POST /posts/{id}/report",
        "POST /comments/{id}/report",
        "POST /users/{id}/follow",
        "POST /users/{id}/block",
    }
)
MEMBER_WRITES = frozenset(
    {
        "POST /users/{id}/follow",
        "POST /users/{id}/block",
    }
)
SELF_VERBS = ("follow", "block")
UNGUESSABLE_PASSWORD = (
    "This password is too common.",
    "The password is too similar to the",
)

STATE_RULES = (
    StateRule(
        IDEMPOTENT_POSTS,
        ("header", "Idempotency-Key"),
        ("This key was already used for a different request",),
        "A key names the first request sent with it for a day: whether it is free depends on "
        "the requests before, and the generator sends one key with many bodies.",
    ),
    StateRule(
        frozenset({"POST /users/"}),
        ("body", "password"),
        UNGUESSABLE_PASSWORD,
        "Not one of 20,000 common passwords, not too like the email: a list and a similarity "
        "ratio, stated in the description; length and digits are in the schema and checked.",
    ),
    StateRule(
        frozenset({"POST /users/me/password"}),
        ("body", "new_password"),
        UNGUESSABLE_PASSWORD,
        "As for POST /users/ (the email is the caller's).",
    ),
    StateRule(
        frozenset({"POST /posts/{id}/comments"}),
        ("body", "parent_id"),
        ("There is no comment with this id on this post that you can see.",),
        "Which comments exist on the post, and which the caller sees, is data, not schema.",
    ),
    StateRule(
        MEMBER_WRITES,
        ("path", "id"),
        tuple(f"You cannot {verb} yourself." for verb in SELF_VERBS),
        "The id is refused only when it is the caller's own.",
    ),
    StateRule(
        frozenset({"GET /feed", "GET /notifications"}),
        ("query", "before"),
        ("Not a cursor from this API's Link header.",),
        "A cursor is opaque: only one this API wrote names a place in the list.",
    ),
)


def state_rule_for(operation: str, response) -> StateRule | None:
    """The rule that explains `response`, a 422 to a schema-valid request, if one does."""
    if response.status_code != 422:
        return None
    try:
        errors = response.json()["detail"]
        problems = {(tuple(error["loc"]), error["msg"]) for error in errors}
    except (ValueError, KeyError, TypeError):
        return None
    for rule in STATE_RULES:
        if (
            operation in rule.operations
            and problems
            and all(loc == rule.loc and msg.startswith(rule.messages) for loc, msg in problems)
        ):
            return rule
    return None


IDEMPOTENCY_KEY = re.compile(r"[ -~]{1,255}")  # the schema's pattern
_FRESH = (f"~{uuid.uuid4().hex[:8]}-{n}" for n in itertools.count())


@schemathesis.hook
def map_headers(context, headers):
    """The generated Idempotency-Key, made unused with a suffix, when the schema admits it."""
    key = headers.get("Idempotency-Key") if isinstance(headers, dict) else None
    if not isinstance(key, str) or not IDEMPOTENCY_KEY.fullmatch(key):
        return headers  # none, or one made to break the schema: it must still break it
    suffix = next(_FRESH)
    return {**headers, "Idempotency-Key": key[: 255 - len(suffix)] + suffix}


FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def form_cannot_carry(case) -> bool:
    """Whether `case` sends a body that is not an object as a form."""
    return (case.media_type or "").startswith(FORM_MEDIA_TYPES) and not isinstance(case.body, dict)


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keep every failure but those the module's docstring names."""
    checks = getattr(failure, "checks", ())
    if "positive_data_acceptance" in checks:
        return state_rule_for(case.operation.label, response) is None
    if "negative_data_rejection" in checks:
        return not form_cannot_carry(case)
    return True
