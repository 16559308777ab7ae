"""Reads on a real PostgreSQL streaming replica (core/replicas.py): where each read goes, and
that neither a member nor the exact read cache ever reads behind a write.

TEST_REPLICA_URL names a hot standby of the test database's server (.ci/run makes one with
deploy/cluster.py, as `make cluster` does); the tests point the replica alias at it, with the
test database's name. Without it they are skipped, and REQUIRE_REPLICA=1 (CI) fails instead.
Tests commit (transaction=True), since a replica only ever sees what was committed.
"""

import copy
import itertools
import os
import time

import environ
import pytest
from django.db import connections, router, transaction
from django.db.utils import load_backend
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from conftest import authorize
from core import cache as api_cache
from core import replicas
from posts.models import Post
from posts.tests.factories import PostFactory

ALIAS = "replica_1"
pytestmark = pytest.mark.django_db(transaction=True)


class Replica:
    """The replica under test, seen through its own connection."""

    def query(self, sql: str, params=()):
        with connections[ALIAS].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() if cursor.description else None

    def pause(self) -> None:
        self.query("SELECT pg_wal_replay_pause()")

    def resume(self) -> None:
        self.query("SELECT pg_wal_replay_resume()")

    def catch_up(self, seconds: float = 20) -> None:
        """Wait until the replica has replayed everything the primary has committed so far."""
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()")
            target = cursor.fetchone()[0]
        deadline = time.monotonic() + seconds
        while not self.query("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])[0]:
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.02)


@pytest.fixture
def replica(transactional_db, redis_cache, settings):
    url = os.environ.get("TEST_REPLICA_URL")
    if not url:
        if os.environ.get("REQUIRE_REPLICA"):
            pytest.fail("TEST_REPLICA_URL is not set (REQUIRE_REPLICA is set)")
        pytest.skip("TEST_REPLICA_URL names no replica")
    where = environ.Env.db_url_config(url)
    # The test database, on the replica's server.
    replica_settings = copy.deepcopy(connections["default"].settings_dict)
    replica_settings.update(HOST=where["HOST"], PORT=where["PORT"], USER=where["USER"])
    # Not in connections.settings: Django's test case then lets this test use it.
    connections[ALIAS] = load_backend(replica_settings["ENGINE"]).DatabaseWrapper(
        copy.deepcopy(replica_settings), ALIAS
    )
    settings.DATABASE_REPLICAS = [ALIAS]
    settings.REPLICA_MAX_LAG_SECONDS = 5.0
    settings.API_CACHE = False
    replicas._replicas.clear()
    seen = Replica()
    try:
        seen.catch_up()  # the test database exists there, flushed as on the primary
        yield seen
    finally:
        try:
            connections[ALIAS].close()
            connections[ALIAS].settings_dict.update(PORT=replica_settings["PORT"])
            seen.resume()
        finally:
            connections[ALIAS].close()
            del connections[ALIAS]
            replicas._replicas.clear()
            api_cache.memory.clear()


def on(alias: str):
    return CaptureQueriesContext(connections[alias])


_addresses = itertools.count(1)


def client_of(user) -> APIClient:
    """A member's client, from an address of its own as on the internet (positions are kept per
    member, and per address for visitors)."""
    return authorize(APIClient(REMOTE_ADDR=f"192.0.2.{next(_addresses) % 250 + 1}"), user)


def reads(queries) -> list[str]:
    """The queries that read the API's tables (not the replica's status check)."""
    return [q["sql"] for q in queries if "pg_last_wal_replay_lsn" not in q["sql"]]


def test_reads_go_to_the_replica_and_writes_to_the_primary(replica):
    post = PostFactory()
    reader = client_of(UserFactory())
    replica.catch_up()

    with on(ALIAS) as on_replica, on("default") as on_primary:
        response = reader.get(f"/posts/{post.pk}")
    assert response.status_code == 200
    assert response.json()["Post"]["title"] == post.title
    assert reads(on_replica.captured_queries)
    assert not on_primary.captured_queries

    with on(ALIAS) as on_replica, on("default") as on_primary:
        voted = reader.post("/vote/", {"post_id": post.pk, "dir": 1}, format="json")
    assert voted.status_code == 201
    assert not reads(on_replica.captured_queries)  # a writing request reads the primary too
    assert any("INSERT" in q["sql"] for q in on_primary.captured_queries)
    assert Post.objects.get(pk=post.pk).vote_count == 1


def test_a_member_reads_their_own_write_while_others_read_the_paused_replica(replica):
    author = UserFactory()
    post = PostFactory(owner=author, title="before")
    writer, other = client_of(author), client_of(UserFactory())
    replica.catch_up()
    replica.pause()

    edited = writer.put(
        f"/posts/{post.pk}", {"title": "after", "content": "c", "published": True}, format="json"
    )
    assert edited.status_code == 200
    assert replica.query("SELECT title FROM posts_post WHERE id = %s", [post.pk]) == ("before",)

    with on(ALIAS) as on_replica:
        assert writer.get(f"/posts/{post.pk}").json()["Post"]["title"] == "after"
    assert not reads(on_replica.captured_queries)  # the primary: the replica is behind them

    with on(ALIAS) as on_replica:
        # Without the shared cache, another member may read a replica a moment behind.
        assert other.get(f"/posts/{post.pk}").json()["Post"]["title"] == "before"
    assert reads(on_replica.captured_queries)

    replica.resume()
    replica.catch_up()
    with on(ALIAS) as on_replica:
        assert writer.get(f"/posts/{post.pk}").json()["Post"]["title"] == "after"
    assert reads(on_replica.captured_queries)  # caught up: back on the replica


def test_a_visitor_who_signed_up_can_log_in_at_once(replica):
    visitor = APIClient()
    replica.pause()

    signed_up = visitor.post(
        "/users/", {"email": "new@example.com", "password": "a long passphrase"}, format="json"
    )
    assert signed_up.status_code == 201
    logged_in = visitor.post(
        "/login", {"username": "new@example.com", "password": "a long passphrase"}
    )
    assert logged_in.status_code == 200
    token = logged_in.json()["access_token"]
    me = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}").get("/users/me")
    assert me.status_code == 200
    assert me.json()["email"] == "new@example.com"


PATHS = (
    "/posts/?limit=5",
    "/posts/{post}",
    "/posts/{post}/comments?limit=20",
    "/users/{author}",
    "/users/me",
    "/feed?limit=5",
    "/notifications",
    "/notifications/unread",
)


def read_all(client, ids) -> dict:
    answers = {}
    for path in PATHS:
        response = client.get(path.format(**ids))
        assert response.status_code == 200, (path, response.content)
        answers[path] = response.json()
    return answers


def truth(settings, client, ids) -> dict:
    """What the primary says, with no cache and no replica."""
    settings.API_CACHE, settings.DATABASE_REPLICAS = False, []
    try:
        return read_all(client, ids)
    finally:
        settings.API_CACHE, settings.DATABASE_REPLICAS = True, [ALIAS]


def test_the_cache_never_keeps_what_a_paused_replica_returned(replica, settings):
    settings.API_CACHE = True
    author, reader_user = UserFactory(), UserFactory()
    post = PostFactory(owner=author, title="before")
    writer, reader = client_of(author), client_of(reader_user)
    assert reader.post(f"/users/{author.pk}/follow").status_code == 201
    ids = {"post": post.pk, "author": author.pk}
    replica.catch_up()
    with on(ALIAS) as on_replica:
        read_all(reader, ids)  # cached now, read from the replica
    assert reads(on_replica.captured_queries)

    replica.pause()
    # Every kind of write the cached paths show: an edit, a like, a comment, a new post.
    assert (
        writer.put(
            f"/posts/{post.pk}", {"title": "after", "content": "c"}, format="json"
        ).status_code
        == 200
    )
    other = client_of(UserFactory())
    assert other.post("/vote/", {"post_id": post.pk, "dir": 1}, format="json").status_code == 201
    comment = other.post(f"/posts/{post.pk}/comments", {"content": "hi"}, format="json")
    assert comment.status_code == 201
    assert writer.post("/posts/", {"title": "second", "content": "c"}, format="json").status_code
    assert replica.query("SELECT title FROM posts_post WHERE id = %s", [post.pk]) == ("before",)

    with on(ALIAS) as on_replica:
        during = read_all(reader, ids)
    assert not reads(on_replica.captured_queries)  # behind the writes the versions show
    assert during == truth(settings, reader, ids)
    assert during["/posts/{post}"]["Post"]["title"] == "after"
    assert during["/posts/{post}"]["votes"] == 1
    assert during["/posts/{post}"]["comments"] == 1

    replica.resume()
    replica.catch_up()
    api_cache.memory.clear()  # what each worker keeps in memory too: read from Redis
    after = read_all(reader, ids)
    assert after == truth(settings, reader, ids) == during


def test_a_lagging_replica_is_skipped_until_it_catches_up(replica, settings):
    settings.REPLICA_MAX_LAG_SECONDS = 0.2
    post = PostFactory(title="before")
    visitor = client_of(UserFactory())
    replica.catch_up()
    replica.pause()
    Post.objects.filter(pk=post.pk).update(title="after")  # someone else's write: no position
    time.sleep(0.5)
    replicas._replica(ALIAS).checked = float("-inf")  # as if its last look was a second ago

    with on(ALIAS) as on_replica:
        assert visitor.get(f"/posts/{post.pk}").json()["Post"]["title"] == "after"
    assert not reads(on_replica.captured_queries)

    replica.resume()
    replica.catch_up()
    replicas._replica(ALIAS).checked = float("-inf")
    with on(ALIAS) as on_replica:
        assert visitor.get(f"/posts/{post.pk}").json()["Post"]["title"] == "after"
    assert reads(on_replica.captured_queries)


def test_a_replica_that_is_down_is_skipped_and_comes_back(replica, monkeypatch):
    post = PostFactory()
    visitor = client_of(UserFactory())
    replica.catch_up()
    port = connections[ALIAS].settings_dict["PORT"]
    connections[ALIAS].close()
    connections[ALIAS].settings_dict["PORT"] = "1"  # nothing listens there

    response = visitor.get(f"/posts/{post.pk}")
    assert response.status_code == 200
    assert response.json()["Post"]["id"] == post.pk
    assert time.monotonic() < replicas._replica(ALIAS).down_until

    connections[ALIAS].settings_dict["PORT"] = port
    monkeypatch.setattr(replicas, "RETRY_SECONDS", 0)
    replicas._replica(ALIAS).down_until = time.monotonic()  # its retry time has come
    with on(ALIAS) as on_replica:
        assert visitor.get(f"/posts/{post.pk}").status_code == 200
    assert reads(on_replica.captured_queries)


def test_a_read_whose_replica_fails_under_it_runs_again_on_the_primary(replica):
    post = PostFactory()
    visitor = client_of(UserFactory())
    replica.catch_up()
    assert visitor.get(f"/posts/{post.pk}").status_code == 200  # the replica is known good
    replica.query("SET search_path TO nowhere")  # its next query of a table fails

    with on("default") as on_primary:
        response = visitor.get(f"/posts/{post.pk}")
    assert response.status_code == 200
    assert response.json()["Post"]["id"] == post.pk
    assert reads(on_primary.captured_queries)
    assert time.monotonic() < replicas._replica(ALIAS).down_until  # skipped for a moment


@pytest.mark.parametrize("api_cache", [False, True])
def test_a_read_run_again_on_the_primary_spends_the_rate_once(replica, settings, api_cache):
    settings.API_CACHE = api_cache  # on: its rates are counted before its first query
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "user": "2/min"},
    }
    posts = PostFactory.create_batch(3)
    member = client_of(UserFactory())
    replica.catch_up()
    assert member.get(f"/posts/{posts[0].pk}").status_code == 200  # 1 of 2
    replica.query("SET search_path TO nowhere")  # the next read fails there, runs again

    with on("default") as on_primary:
        assert member.get(f"/posts/{posts[1].pk}").status_code == 200  # 2 of 2, counted once
    assert reads(on_primary.captured_queries)  # it did run again
    assert member.get(f"/posts/{posts[2].pk}").status_code == 429


def test_transactions_the_admin_and_commands_use_the_primary(replica, admin_client):
    replica.catch_up()
    assert router.db_for_read(Post) == "default"  # outside a request: a command, a shell
    with transaction.atomic():
        assert router.db_for_read(Post) == "default"

    with on(ALIAS) as on_replica:
        assert admin_client.get("/admin/posts/post/").status_code == 200
    assert not reads(on_replica.captured_queries)
