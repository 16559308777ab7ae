"""The reads' queries use indexes, so their cost does not grow with the tables (PostgreSQL).

Every query that a list, a search, a deep page and a post by id send, for a member, an author
with drafts, a member with blocks and staff, is run through EXPLAIN on 100,000 posts and 5,000
members: none may read a whole table (a sequential scan), and there are no more of them than on
a table of a few posts.
"""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Block
from accounts.tests.factories import UserFactory
from conftest import authorize
from core import cache as api_cache
from posts.models import Post
from posts.services import post_counts_rebuild

pytestmark = pytest.mark.django_db

POSTS = 100_000
MEMBERS = 5_000
WATCHED = ("posts_post", "posts_vote", "accounts_user")
RARE_WORD = "zanzibar"  # in one title of a hundred: a search that an index can narrow
PATHS = ["/posts/?limit=100", "/posts/?limit=10&skip=20", f"/posts/?search={RARE_WORD}"]


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")


@pytest.fixture(autouse=True)
def _fresh_posts_tables(_postgresql_only):
    """Empty files for the posts and votes (TRUNCATE is undone with the test's transaction).

    Earlier tests' rolled-back rows leave dead space that autovacuum frees at its own moment;
    rows filled into it lose their order by date, and the planner then reads the staff's deep
    page with a sequential scan in some runs and not in others. New files hold the rows in the
    order they are written, whatever ran before.
    """
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE posts_post, posts_vote CASCADE")


def fill(*, posts: int, members: int, author: int) -> None:
    """Members and posts (one in twenty a draft, the author's among them) and likes, in SQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_user (email, password, is_active, is_staff, is_superuser,"
            " created_at) SELECT 'plan-' || %s || '-' || n || '@example.com', '!', true, false,"
            " false, now() FROM generate_series(1, %s) n",
            [posts, members],
        )
        cursor.execute(
            "INSERT INTO posts_post (title, content, published, created_at, owner_id,"
            " hidden_reason) SELECT 'post ' || n || ' about ' ||"
            " CASE WHEN n %% 100 = 7 THEN %s ELSE 'django' END, 'c', n %% 20 <> 0,"
            " now() - n * interval '1 second',"
            " CASE WHEN n %% 50 = 0 THEN %s ELSE (SELECT max(id) FROM accounts_user) - n %% %s END,"
            " '' FROM generate_series(1, %s) n",
            [RARE_WORD, author, members, posts],
        )
        cursor.execute(
            "INSERT INTO posts_vote (user_id, post_id, created_at) SELECT p.owner_id, p.id, now()"
            " FROM posts_post p WHERE p.id % 3 = 0 ON CONFLICT DO NOTHING"
        )
    post_counts_rebuild()
    with connection.cursor() as cursor:
        # Statistics from every row, not a random sample of 30,000: a sample's estimate of the
        # rare word's share moves from run to run, and with it (about one run in five) the plan.
        cursor.execute("SET default_statistics_target = 1000")
        cursor.execute(
            "ANALYZE accounts_user, accounts_block, posts_post, posts_vote, posts_postcounts"
        )
        cursor.execute("RESET default_statistics_target")


def queries_of(client, path) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200, path
    return [query["sql"] for query in captured.captured_queries]


def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("cached", [False, True], ids=["no cache", "cold cache"])
def test_read_queries_scan_no_whole_table_and_do_not_grow_with_it(settings, cached):
    settings.API_CACHE = cached  # a cold cache: every query the misses send
    author, blocking = UserFactory(), UserFactory()
    readers = {
        "member": authorize(APIClient(), UserFactory()),
        "author": authorize(APIClient(), author),  # has drafts: merged into the shared list
        "staff": authorize(APIClient(), UserFactory(is_staff=True)),
        "blocking": authorize(APIClient(), blocking),  # their list leaves three members out
    }
    fill(posts=60, members=20, author=author.pk)
    for blocked in UserFactory.create_batch(2):
        Block.objects.create(blocker=blocking, blocked=blocked)
    Block.objects.create(blocker=author, blocked=blocking)
    post_id = Post.objects.filter(published=True).latest("pk").pk
    paths = [*PATHS, f"/posts/{post_id}"]
    small = {}
    for who, client in readers.items():
        for path in paths:
            cache.clear()
            api_cache.memory.clear()
            small[who, path] = len(queries_of(client, path))

    fill(posts=POSTS, members=MEMBERS, author=author.pk)

    for who, client in readers.items():
        for path in [*paths, "/posts/?limit=10&skip=50000"]:
            cache.clear()
            api_cache.memory.clear()
            queries = queries_of(client, path)
            assert len(queries) <= small.get((who, path), len(queries)), (who, path)
            # Cold: the shared list, the member's own list and blocks, the posts (and, with
            # blocks, the counts to take theirs from), each kept for the next request.
            assert len(queries) <= (6 if cached else 3), (who, path)
            for sql in queries:
                explained = plan(sql)
                for table in WATCHED:  # (posts_post, not posts_posttotals: one row)
                    scanned = re.search(rf"Seq Scan on {table}\b", explained)
                    assert not scanned, f"{who} {path}\n{explained}"
