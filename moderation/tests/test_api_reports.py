"""POST /posts/{id}/report, to the letter of docs/api.md: statuses, bodies and the database."""

import threading
from collections import Counter

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from conftest import login
from moderation.models import Report
from posts.tests.factories import PostFactory

from .factories import ReportFactory

pytestmark = pytest.mark.django_db

SLASHES = pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
REPORT_KEYS = {"id", "post_id", "reporter_id", "category", "reason", "status", "created_at"}


def report(client, post_id, body=None, slash="", **kwargs):
    body = {"reason": "Spam link"} if body is None else body
    return client.post(f"/posts/{post_id}/report{slash}", body, format="json", **kwargs)


def not_found(post_id) -> dict:
    return {"detail": f"post with id: {post_id} was not found"}


def assert_422(response, *locs):
    assert response.status_code == 422, response.content
    assert [entry["loc"] for entry in response.json()["detail"]] == [list(loc) for loc in locs]
    for entry in response.json()["detail"]:
        assert set(entry) == {"loc", "msg", "type"}


# --- 201 ---------------------------------------------------------------------------------------


@SLASHES
def test_report_returns_201_with_the_report_and_stores_it(auth_client, user, slash):
    post = PostFactory()

    response = report(auth_client, post.pk, {"reason": "Spam link"}, slash)

    assert response.status_code == 201, response.content
    stored = Report.objects.get()
    data = response.json()
    assert set(data) == REPORT_KEYS
    assert data == {
        "id": stored.pk,
        "post_id": post.pk,
        "reporter_id": user.pk,
        "category": "other",
        "reason": "Spam link",
        "status": "open",
        "created_at": data["created_at"],
    }
    assert parse_datetime(data["created_at"]) == stored.created_at
    assert (stored.reporter, stored.post, stored.reason) == (user, post, "Spam link")
    assert (stored.category, stored.status) == (Report.Category.OTHER, Report.Status.OPEN)
    assert (stored.resolved_at, stored.resolved_by) == (None, None)


@pytest.mark.parametrize("category", [choice for choice, _ in Report.Category.choices])
def test_report_takes_an_optional_category(auth_client, category):
    post = PostFactory()

    response = report(auth_client, post.pk, {"reason": "why", "category": category})

    assert response.status_code == 201, response.content
    assert response.json()["category"] == category
    assert Report.objects.get().category == category


def test_report_ignores_read_only_fields_in_the_body(auth_client, user, other_user):
    post, elsewhere = PostFactory.create_batch(2)
    body = {
        "reason": "why",
        "id": 999,
        "post_id": elsewhere.pk,
        "reporter_id": other_user.pk,
        "status": "resolved",
        "created_at": "2000-01-01T00:00:00Z",
    }

    response = report(auth_client, post.pk, body)

    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["post_id"], data["reporter_id"], data["status"]) == (post.pk, user.pk, "open")
    assert not data["created_at"].startswith("2000")
    stored = Report.objects.get()
    assert (stored.post, stored.reporter, stored.status) == (post, user, "open")


def test_report_accepts_a_form_body(auth_client, user):
    post = PostFactory()
    response = auth_client.post(f"/posts/{post.pk}/report", {"reason": "form body"})
    assert response.status_code == 201, response.content
    assert Report.objects.get().reason == "form body"


def test_owner_may_report_their_own_draft(auth_client, user):
    # Nothing to hide from themselves; the report is only noise, not a leak.
    draft = PostFactory(owner=user, published=False)
    assert report(auth_client, draft.pk).status_code == 201
    assert Report.objects.get().post == draft


def test_reports_by_different_users_on_one_post_are_all_kept(auth_client, other_client):
    post = PostFactory()
    assert report(auth_client, post.pk).status_code == 201
    assert report(other_client, post.pk).status_code == 201
    assert Report.objects.filter(post=post, status="open").count() == 2


# --- 422 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reason": ""},
        {"reason": "   "},
        {"reason": None},
        {"reason": "x" * 1001},
        {"reason": "a\x00b"},
        {"reason": 5},
        {"reason": ["spam"]},
        {"reason": {"text": "spam"}},
        {"category": "spam"},
    ],
    ids=[
        "missing",
        "empty",
        "blank",
        "null",
        "too-long",
        "null-char",
        "number",
        "list",
        "object",
        "category-only",
    ],
)
def test_report_with_a_bad_reason_returns_422(auth_client, body):
    post = PostFactory()
    response = report(auth_client, post.pk, body)
    assert_422(response, ("body", "reason"))
    assert not Report.objects.exists()


def test_report_missing_reason_is_typed_missing(auth_client):
    post = PostFactory()
    response = report(auth_client, post.pk, {})
    assert response.json()["detail"][0]["type"] == "missing"


def test_report_reason_of_1000_characters_is_accepted(auth_client):
    post = PostFactory()
    assert report(auth_client, post.pk, {"reason": "x" * 1000}).status_code == 201
    assert len(Report.objects.get().reason) == 1000


@pytest.mark.parametrize("category", ["nonsense", "", None, 1, "SPAM"])
def test_report_with_an_unknown_category_returns_422(auth_client, category):
    post = PostFactory()
    response = report(auth_client, post.pk, {"reason": "why", "category": category})
    assert_422(response, ("body", "category"))
    assert not Report.objects.exists()


def test_report_with_an_empty_category_in_a_form_returns_422_not_the_default(auth_client):
    post = PostFactory()

    response = auth_client.post(f"/posts/{post.pk}/report", {"reason": "why", "category": ""})

    assert_422(response, ("body", "category"))
    assert not Report.objects.exists()


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '"a string"', "{"])
def test_report_with_a_body_that_is_not_an_object_returns_422(auth_client, raw):
    post = PostFactory()
    response = auth_client.post(f"/posts/{post.pk}/report", raw, content_type="application/json")
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)
    assert not Report.objects.exists()


def test_report_with_json_nested_too_deep_returns_422(auth_client):
    post = PostFactory()
    body = "[" * 100_000 + "]" * 100_000
    response = auth_client.post(f"/posts/{post.pk}/report", body, content_type="application/json")
    assert response.status_code == 422
    assert not Report.objects.exists()


@pytest.mark.parametrize("bad_id", ["abc", "1.5", "-", "9" * 30])
@pytest.mark.parametrize("body", [{"reason": "spam"}, {}], ids=["good-body", "empty-body"])
def test_report_with_a_bad_id_returns_422_on_the_path(auth_client, bad_id, body):
    response = report(auth_client, bad_id, body)
    assert_422(response, ("path", "id"))
    assert not Report.objects.exists()


# --- 409 ---------------------------------------------------------------------------------------


def test_second_open_report_returns_409_and_keeps_one_row(auth_client, user):
    post = PostFactory()
    assert report(auth_client, post.pk).status_code == 201

    response = report(auth_client, post.pk, {"reason": "again", "category": "abuse"})

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"user {user.pk} already has an open report on post {post.pk}"
    }
    assert Report.objects.filter(reporter=user, post=post).count() == 1
    assert Report.objects.get().reason == "Spam link"


@pytest.mark.parametrize("closed", [Report.Status.RESOLVED, Report.Status.DISMISSED])
def test_after_a_report_is_closed_the_same_user_may_report_again(auth_client, user, closed):
    post = PostFactory()
    ReportFactory(reporter=user, post=post, status=closed, resolved_at=timezone.now())

    response = report(auth_client, post.pk, {"reason": "it is back"})

    assert response.status_code == 201, response.content
    assert Report.objects.filter(reporter=user, post=post).count() == 2
    assert Report.objects.get(status="open").reason == "it is back"


def test_database_refuses_a_second_open_report_by_one_user_on_one_post(user):
    first = ReportFactory(reporter=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        Report.objects.create(reporter=user, post=first.post, reason="again")
    assert Report.objects.count() == 1


def test_database_allows_closed_reports_beside_an_open_one(user):
    first = ReportFactory(reporter=user, status=Report.Status.RESOLVED)
    ReportFactory(reporter=user, post=first.post, status=Report.Status.DISMISSED)
    ReportFactory(reporter=user, post=first.post)  # open
    assert Report.objects.filter(reporter=user, post=first.post).count() == 3


# --- 404 ---------------------------------------------------------------------------------------


def test_report_on_a_missing_post_returns_404(auth_client):
    response = report(auth_client, 99999)
    assert response.status_code == 404
    assert response.json() == not_found(99999)
    assert not Report.objects.exists()


def test_report_on_another_users_draft_returns_404(auth_client, other_user):
    draft = PostFactory(owner=other_user, published=False)
    response = report(auth_client, draft.pk)
    assert response.status_code == 404
    assert response.json() == not_found(draft.pk)
    assert not Report.objects.exists()


def test_report_on_a_hidden_post_returns_404_to_others(auth_client, other_user):
    hidden = PostFactory(owner=other_user, hidden_at=timezone.now(), hidden_reason="spam")
    response = report(auth_client, hidden.pk)
    assert response.status_code == 404
    assert response.json() == not_found(hidden.pk)
    assert not Report.objects.exists()


def test_report_on_a_deleted_post_returns_404(auth_client):
    post = PostFactory()
    post_id = post.pk
    post.delete()
    assert report(auth_client, post_id).json() == not_found(post_id)


# --- 401, 405 ----------------------------------------------------------------------------------


@SLASHES
def test_report_without_token_returns_401_and_stores_nothing(api_client, slash):
    post = PostFactory()
    response = report(api_client, post.pk, slash=slash)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert isinstance(response.json()["detail"], str)
    assert not Report.objects.exists()


def test_report_with_a_bad_token_returns_401(api_client):
    post = PostFactory()
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = report(api_client, post.pk)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert not Report.objects.exists()


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
@pytest.mark.parametrize("authorized", [True, False])
def test_other_methods_on_report_return_405_token_or_not(
    auth_client, api_client, method, authorized
):
    # Like every endpoint: the method is matched before authentication, as the original did.
    post = PostFactory()
    client = auth_client if authorized else api_client
    response = getattr(client, method)(f"/posts/{post.pk}/report")
    assert response.status_code == 405, response.content
    assert isinstance(response.json()["detail"], str)
    assert not Report.objects.exists()


# --- concurrency -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("threads", [2, 10])
def test_identical_reports_at_once_give_one_201_the_rest_409_and_one_row(threads):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("needs PostgreSQL or a SQLite file database (DATABASES TEST NAME)")
    user = UserFactory()
    post = PostFactory()
    token = login(APIClient(), user)["access_token"]
    barrier = threading.Barrier(threads)
    responses: list = [None] * threads

    def worker(index):
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            barrier.wait(timeout=30)
            responses[index] = report(client, post.pk)
        except Exception as error:  # reported below, never lost in the thread
            responses[index] = error
        finally:
            connection.close()  # each thread opened its own connection

    workers = [threading.Thread(target=worker, args=(index,)) for index in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in workers), "a request hung"
    assert not [r for r in responses if isinstance(r, Exception)], responses
    assert Counter(r.status_code for r in responses) == {201: 1, 409: threads - 1}
    assert Report.objects.filter(reporter=user, post=post).count() == 1
