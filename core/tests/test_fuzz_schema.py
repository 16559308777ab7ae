"""Fuzz the whole API from its own OpenAPI schema, against a live server, as a real user.

Schemathesis reads the document GET /openapi.json serves and, for every operation, generates up
to 100 requests: ones that fit the schema and ones that break it (wrong types, missing fields,
out-of-range values, unexpected methods). Every check Schemathesis has runs on every answer, as
`schemathesis run --checks all` does: no 5xx; status code, content type, headers and body as
documented; a request the schema admits is accepted and one it refuses is refused; a method the
schema does not list is a 405 with `Allow`; without the token, a 401. A stateful run then chains
operations through the links Schemathesis infers from the schema: POST /posts/ gives the id that
GET, PUT, PATCH, DELETE /posts/{id}, its report and a vote use next, and a deleted post is gone.

The run reads the repository's schemathesis.toml, as the CLI does: the few refusals no schema can
describe (core/tests/schemathesis_hooks.py, each with its reason) and the 412 of If-Match.

Selected alone with `pytest -m fuzz`; part of the default run.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import schemathesis
from django.test import Client, override_settings
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from core.models import IdempotencyKey
from posts.models import Post
from posts.tests.factories import PostFactory

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]

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


def project_config() -> schemathesis.Config:
    """The repository's schemathesis.toml, whatever the working directory."""
    return schemathesis.Config.from_path(Path(__file__).resolve().parents[2] / "schemathesis.toml")


schema = schemathesis.openapi.from_dict(served_schema(), config=project_config())

# Ids of rows that exist during a test, so that generated ids also hit real posts and users
# (their own, someone else's, drafts), not only 404s.
REAL_IDS: list[int] = []


def with_real_id(values, name: str):
    """`values`, or the same with a real id for `name`: only in place of a positive id, so that
    a request made to break the schema with its id still breaks it."""
    value = values.get(name) if isinstance(values, dict) else None
    if not REAL_IDS or type(value) is not int or not 1 <= value < 2**63:
        return st.just(values)
    real = st.sampled_from(REAL_IDS).map(lambda pk: {**values, name: pk})
    return st.one_of(st.just(values), real)


@schema.hook
def flatmap_path_parameters(ctx, path_parameters):
    return with_real_id(path_parameters, "id")


@schema.hook
def flatmap_body(ctx, body):
    return with_real_id(body, "post_id") if ctx.operation.path == "/vote/" else st.just(body)


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
    case.call_and_validate(base_url=live_server.url, headers=fuzz_user.headers, timeout=30)


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

    LiveWorkflow.run(
        settings=hypothesis_settings(
            FUZZ_SETTINGS, phases=[Phase.generate], max_examples=100, stateful_step_count=10
        )
    )
