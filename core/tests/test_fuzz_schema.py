"""Fuzz the whole API from its own OpenAPI schema, against a live server, as a real user.

Schemathesis reads the document GET /openapi.json serves and, for every operation, generates up
to 100 requests: ones that fit the schema and ones that break it (wrong types, missing fields,
out-of-range values, unexpected methods). Every answer must be no 5xx, a status code and a
content type that the schema documents for that operation, and a body that matches the schema
documented for its status. A stateful run then chains operations through the links Schemathesis
infers from the schema: POST /posts/ gives the id that GET, PUT, PATCH, DELETE /posts/{id}, its
report and a vote use next.

Selected alone with `pytest -m fuzz`; part of the default run. About a minute on either database.
"""

import json
from dataclasses import dataclass

import pytest
import requests
import schemathesis
from django.test import Client, override_settings
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from core.models import IdempotencyKey
from posts.models import Post
from posts.tests.factories import PostFactory

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ_SETTINGS = hypothesis_settings(
    max_examples=100,
    deadline=None,  # a live server over HTTP: timing says nothing about correctness
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the failing request is shown as sent
    suppress_health_check=list(HealthCheck),
    database=None,
)
UNTHROTTLED = "1000000/min"


def served_schema() -> dict:
    """The document GET /openapi.json answers, through the project's own URLconf."""
    with override_settings(ALLOWED_HOSTS=["*"]):  # read at import, before the test host is set
        response = Client().get("/openapi.json")
    assert response.status_code == 200, response.content
    return json.loads(response.content)


schema = schemathesis.openapi.from_dict(served_schema())

# Ids of rows that exist during a test, so that generated ids also hit real posts and users
# (their own, someone else's, drafts), not only 404s.
REAL_IDS: list[int] = []


@schema.hook
def flatmap_path_parameters(ctx, path_parameters):
    if not REAL_IDS or not isinstance(path_parameters, dict) or "id" not in path_parameters:
        return st.just(path_parameters)
    real = st.sampled_from(REAL_IDS).map(lambda pk: {**path_parameters, "id": pk})
    return st.one_of(st.just(path_parameters), real)


@schema.hook
def flatmap_body(ctx, body):
    if ctx.operation.path != "/vote/" or not REAL_IDS or not isinstance(body, dict):
        return st.just(body)
    real = st.sampled_from(REAL_IDS).map(lambda pk: {**body, "post_id": pk})
    return st.one_of(st.just(body), real)


@pytest.fixture(autouse=True)
def _unthrottled(settings):
    """Every rate out of reach: the fuzz checks answers, not the throttles' budgets.

    (core/tests/test_throttling.py checks those; the throttles read the rates per request.)
    """
    rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES") or {}
    names = {*rates, "anon", "user", "signup", "login", "login_email"}
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(names, UNTHROTTLED),
    }


@dataclass
class FuzzUser:
    user: User
    headers: dict


@pytest.fixture
def fuzz_user(live_server):
    """A real user with an access token from POST /login, and posts of theirs and another's."""
    user = UserFactory()
    other = UserFactory()
    posts = [
        PostFactory(owner=user),
        PostFactory(owner=user, published=False),
        PostFactory(owner=other),
        PostFactory(owner=other, published=False),
    ]
    REAL_IDS[:] = [post.pk for post in posts] + [user.pk, other.pk]
    response = requests.post(
        f"{live_server.url}/login", data={"username": user.email, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    yield FuzzUser(user, {"Authorization": f"Bearer {response.json()['access_token']}"})
    REAL_IDS.clear()


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_answers_as_documented(case, live_server, fuzz_user):
    case.call_and_validate(
        base_url=live_server.url, headers=fuzz_user.headers, checks=CHECKS, timeout=30
    )


Workflow = schema.as_state_machine()


def test_chained_operations_answer_as_documented(live_server, fuzz_user):
    """Sequences such as create a post, read it, vote on it, report it, change it, delete it."""
    user = fuzz_user.user

    class LiveWorkflow(Workflow):
        def setup(self):
            # Each scenario starts from the same state, so that a replay gets the same answers
            # (Hypothesis stops when a replayed scenario draws differently).
            Post.objects.all().delete()  # their votes and reports go with them
            User.objects.exclude(pk=user.pk).delete()
            User.objects.filter(pk=user.pk).update(email=user.email)
            IdempotencyKey.objects.all().delete()  # a replayed key must run afresh, as before

        def get_call_kwargs(self, case):
            return {"base_url": live_server.url, "headers": fuzz_user.headers, "timeout": 30}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response, checks=CHECKS, transport_kwargs=kwargs, recorder=self.recorder
            )

    LiveWorkflow.run(
        settings=hypothesis_settings(
            FUZZ_SETTINGS, phases=[Phase.generate], max_examples=100, stateful_step_count=10
        )
    )
