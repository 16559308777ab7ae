"""GET /notifications, GET /notifications/unread and POST /notifications/read, to the letter of
docs/api.md Part 3: statuses, bodies, paging by cursor, and the database afterwards."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core import cache
from notifications.models import Notification
from posts.tests.factories import PostFactory

from .factories import NotificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["no cache", "redis"])
def _cache(request, settings):
    # The first page and the unread count may come from the shared cache: every answer here
    # must be the same with it, however the inbox changed in between.
    settings.API_CACHE = request.param != "no cache"
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    cache.memory.clear()


SLASHES = pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
ENDPOINTS = [
    ("get", "/notifications"),
    ("get", "/notifications/unread"),
    ("post", "/notifications/read"),
]


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def as_json(notification: Notification) -> dict:
    actor = notification.actor
    return {
        "id": notification.pk,
        "type": notification.type,
        "actor": {"id": actor.pk, "email": actor.email, "created_at": iso(actor.created_at)},
        "post_id": notification.post_id,
        "comment_id": notification.comment_id,
        "created_at": iso(notification.created_at),
        "read": notification.read,
    }


def ids_of(response) -> list[int]:
    return [item["id"] for item in response.json()]


def next_url(response) -> str | None:
    link = response.get("Link")
    if link is None:
        return None
    assert link.startswith("<") and link.endswith('>; rel="next"'), link
    url = urlsplit(link[1 : link.index(">")])
    return f"{url.path}?{url.query}"


def told_at(recipient, *minutes_ago: float) -> list[Notification]:
    """A follow notification for `recipient` from a new member, `minutes_ago` each."""
    now = timezone.now()
    return [
        NotificationFactory(recipient=recipient, created_at=now - timedelta(minutes=minutes))
        for minutes in minutes_ago
    ]


def assert_422(response, loc: list) -> None:
    assert response.status_code == 422, response.content
    (entry,) = response.json()["detail"]
    assert set(entry) == {"loc", "msg", "type"}
    assert entry["loc"] == loc
    assert isinstance(entry["msg"], str) and entry["msg"]


def warm(client) -> tuple[list[int], int]:
    """Read the first page and the unread count (with the cache on, both are then cached)."""
    page, count = client.get("/notifications"), client.get("/notifications/unread")
    assert (page.status_code, count.status_code) == (200, 200)
    return ids_of(page), count.json()["count"]


def read_flags(user) -> dict[int, bool]:
    return dict(Notification.objects.filter(recipient=user).values_list("pk", "read"))


# --- GET /notifications ------------------------------------------------------------------------


@SLASHES
def test_notifications_are_newest_first_in_the_notification_shape(user, auth_client, slash):
    middle, newest, oldest = told_at(user, 5, 1, 9)
    vote = NotificationFactory(
        recipient=user,
        type="vote",
        post=PostFactory(owner=user),
        created_at=timezone.now() - timedelta(minutes=3),
        read=True,
    )

    response = auth_client.get(f"/notifications{slash}")

    assert response.status_code == 200, response.content
    assert response.json() == [as_json(n) for n in (newest, vote, middle, oldest)]
    assert response.json()[1]["post_id"] == vote.post_id and response.json()[1]["read"] is True
    assert "Link" not in response and "X-Total-Count" not in response
    assert Notification.objects.filter(recipient=user, read=False).count() == 3  # GET marks none


def test_notifications_at_the_same_instant_are_newest_id_first(user, auth_client):
    first, second = told_at(user, 2, 2)
    Notification.objects.filter(pk=second.pk).update(created_at=first.created_at)

    response = auth_client.get("/notifications")

    assert response.status_code == 200
    assert ids_of(response) == [second.pk, first.pk]


def test_members_see_only_their_own(user, auth_client, other_user, other_client):
    (mine,) = told_at(user, 1)
    (theirs,) = told_at(other_user, 2)
    NotificationFactory(actor=user)  # something `user` did, told to someone else

    assert ids_of(auth_client.get("/notifications")) == [mine.pk]
    assert ids_of(other_client.get("/notifications")) == [theirs.pk]
    assert auth_client.get("/notifications/unread").json() == {"count": 1}


def test_what_happens_after_a_read_shows_on_the_next_read(
    user, auth_client, other_user, other_client
):
    (old,) = told_at(user, 5)
    assert warm(auth_client) == ([old.pk], 1)

    followed = other_client.post(f"/users/{user.pk}/follow")

    assert followed.status_code == 201
    new = Notification.objects.get(actor=other_user)
    assert warm(auth_client) == ([new.pk, old.pk], 2)


def test_an_actors_new_email_shows_in_the_inbox(user, auth_client, other_user, other_client):
    told = NotificationFactory(recipient=user, actor=other_user)
    assert auth_client.get("/notifications").json()[0]["actor"]["email"] == other_user.email

    changed = other_client.patch("/users/me", {"email": "renamed@example.com"}, format="json")

    assert changed.status_code == 200, changed.content
    response = auth_client.get("/notifications")
    assert response.json() == [
        {
            **as_json(told),
            "actor": {
                "id": other_user.pk,
                "email": "renamed@example.com",
                "created_at": iso(other_user.created_at),
            },
        }
    ]


def test_pages_follow_the_link_with_no_duplicate_or_gap_when_more_arrive(user, auth_client):
    created = told_at(user, *range(20, 13, -1))  # 7, one minute apart
    tie = NotificationFactory(recipient=user, created_at=created[3].created_at)  # higher id
    expected = [n.pk for n in sorted([*created, tie], key=lambda n: (n.created_at, n.pk))][::-1]

    seen, url, pages = [], "/notifications?limit=3", 0
    while url:
        response = auth_client.get(url)
        assert response.status_code == 200, response.content
        pages += 1
        seen += ids_of(response)
        told_at(user, 0)  # a new one between pages shifts nothing
        url = next_url(response)

    assert seen == expected
    assert pages == 3
    assert Notification.objects.filter(recipient=user).count() == 8 + 3


def test_the_link_keeps_the_limit_and_carries_an_opaque_before_cursor(user, auth_client):
    told_at(user, 3, 2, 1)

    response = auth_client.get("/notifications?limit=2")

    assert response.status_code == 200
    assert len(response.json()) == 2
    query = parse_qs(urlsplit(next_url(response)).query)
    assert set(query) == {"limit", "before"}
    assert query["limit"] == ["2"]
    assert ":" not in query["before"][0] and "." not in query["before"][0]
    last = auth_client.get(next_url(response))
    assert len(last.json()) == 1
    assert "Link" not in last


def test_an_exactly_full_last_page_has_no_next_link(user, auth_client):
    told_at(user, 2, 1)
    response = auth_client.get("/notifications?limit=2")
    assert len(response.json()) == 2
    assert "Link" not in response


def test_limit_defaults_to_twenty_caps_at_a_hundred_and_zero_gives_nothing(user, auth_client):
    told_at(user, *range(105))

    default = auth_client.get("/notifications")
    capped = auth_client.get("/notifications?limit=500")
    empty = auth_client.get("/notifications?limit=0")

    assert (len(default.json()), len(capped.json())) == (20, 100)
    assert parse_qs(urlsplit(next_url(capped)).query)["limit"] == ["100"]
    assert (empty.status_code, empty.json()) == (200, [])
    assert "Link" not in empty


@pytest.mark.parametrize(
    "before", ["garbage", "", "MTIz", "LTEuMg", "OTk5OTk5OTk5OTk5OTk5OTk5OTkuMQ"]
)
def test_a_bad_cursor_is_a_422_about_the_query(user, auth_client, before):
    told_at(user, 1)
    response = auth_client.get("/notifications", {"before": before})
    assert_422(response, ["query", "before"])


@pytest.mark.parametrize("limit", ["-1", "x", "", "1.5"])
def test_a_bad_limit_is_a_422_about_the_query(user, auth_client, limit):
    told_at(user, 1)
    response = auth_client.get("/notifications", {"limit": limit})
    assert_422(response, ["query", "limit"])


# --- GET /notifications/unread, POST /notifications/read ---------------------------------------


@SLASHES
def test_unread_counts_the_callers_unread_ones(user, auth_client, slash):
    told_at(user, 3, 2, 1)
    NotificationFactory(recipient=user, read=True)
    told_at(UserFactory(), 1)

    response = auth_client.get(f"/notifications/unread{slash}")

    assert (response.status_code, response.json()) == (200, {"count": 3})


@SLASHES
def test_marking_all_read_marks_only_the_callers(
    user, auth_client, other_user, other_client, slash
):
    mine = told_at(user, 3, 2, 1)
    theirs = told_at(other_user, 3, 2, 1)
    assert (warm(auth_client)[1], warm(other_client)[1]) == (3, 3)

    response = auth_client.post(f"/notifications/read{slash}", {}, format="json")

    assert (response.status_code, response.content) == (204, b"")
    assert read_flags(user) == {n.pk: True for n in mine}
    assert read_flags(other_user) == {n.pk: False for n in theirs}
    assert auth_client.get("/notifications/unread").json() == {"count": 0}
    assert [n["read"] for n in auth_client.get("/notifications").json()] == [True] * 3
    assert other_client.get("/notifications/unread").json() == {"count": 3}
    assert [n["read"] for n in other_client.get("/notifications").json()] == [False] * 3


def test_marking_read_with_no_body_at_all_marks_all(user, auth_client):
    mine = told_at(user, 2, 1)

    response = auth_client.post("/notifications/read")

    assert response.status_code == 204
    assert read_flags(user) == {n.pk: True for n in mine}


def test_marking_up_to_an_id_marks_that_one_and_older_ids(user, auth_client, other_user):
    first, second, third = told_at(user, 3, 2, 1)
    (theirs,) = told_at(other_user, 4)  # a lower id than `second`, another member's
    assert warm(auth_client) == ([third.pk, second.pk, first.pk], 3)

    response = auth_client.post("/notifications/read", {"up_to_id": second.pk}, format="json")

    assert (response.status_code, response.content) == (204, b"")
    assert read_flags(user) == {first.pk: True, second.pk: True, third.pk: False}
    assert read_flags(other_user) == {theirs.pk: False}
    assert auth_client.get("/notifications/unread").json() == {"count": 1}
    assert [(n["id"], n["read"]) for n in auth_client.get("/notifications").json()] == [
        (third.pk, False),
        (second.pk, True),
        (first.pk, True),
    ]


def test_marking_up_to_an_id_above_all_never_touches_another_members(user, auth_client, other_user):
    told_at(user, 1)
    theirs = told_at(other_user, 2, 1)

    response = auth_client.post("/notifications/read", {"up_to_id": 2**63 - 1}, format="json")

    assert response.status_code == 204
    assert set(read_flags(user).values()) == {True}
    assert read_flags(other_user) == {n.pk: False for n in theirs}


def test_marking_up_to_an_id_below_all_marks_none(user, auth_client):
    mine = told_at(user, 2, 1)
    assert warm(auth_client)[1] == 2

    response = auth_client.post("/notifications/read", {"up_to_id": 0}, format="json")

    assert response.status_code == 204
    assert read_flags(user) == {n.pk: False for n in mine}
    assert warm(auth_client)[1] == 2


@pytest.mark.parametrize("up_to_id", ["x", None, 1.5, [1], {"id": 1}, 2**63])
def test_a_bad_up_to_id_is_a_422_about_the_body_and_marks_nothing(user, auth_client, up_to_id):
    mine = told_at(user, 2, 1)

    response = auth_client.post("/notifications/read", {"up_to_id": up_to_id}, format="json")

    assert_422(response, ["body", "up_to_id"])
    assert read_flags(user) == {n.pk: False for n in mine}


def test_an_empty_up_to_id_in_a_form_is_a_422_not_all_of_them(user, auth_client):
    mine = told_at(user, 2, 1)

    response = auth_client.post(
        "/notifications/read", "up_to_id=", content_type="application/x-www-form-urlencoded"
    )

    assert_422(response, ["body", "up_to_id"])
    assert read_flags(user) == {n.pk: False for n in mine}


def test_a_cursor_given_twice_is_a_422_about_it(user, auth_client):
    response = auth_client.get("/notifications?before=a&before=b")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["query", "before"], "msg": "Give this parameter once.", "type": "value_error"}
        ]
    }


# --- 401 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_without_a_token_each_endpoint_is_a_401(api_client, user, method, path):
    told_at(user, 1)

    response = getattr(api_client, method)(path)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert set(response.json()) == {"detail"} and isinstance(response.json()["detail"], str)
    assert read_flags(user) == {Notification.objects.get().pk: False}


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_with_a_bad_token_each_endpoint_is_a_401(api_client, user, method, path):
    told_at(user, 1)
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = getattr(api_client, method)(path)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert not Notification.objects.filter(read=True).exists()


# --- query counts ------------------------------------------------------------------------------

# The token's user, then one query for the page with its actors (select_related).
LIST_QUERIES = 2


@pytest.mark.parametrize("limit", [5, 50])
def test_the_list_takes_the_same_queries_whatever_the_page_size(
    user, auth_client, django_assert_max_num_queries, limit
):
    told_at(user, *range(60))
    NotificationFactory(recipient=user, type="vote", post=PostFactory(owner=user))  # another type

    with django_assert_max_num_queries(LIST_QUERIES):
        response = auth_client.get(f"/notifications?limit={limit}")

    assert response.status_code == 200
    assert len(response.json()) == limit
    assert len({item["actor"]["id"] for item in response.json()}) == limit
