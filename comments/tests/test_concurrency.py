"""Comments under real concurrency: threads with their own database connections, no mocks.

Each thread is a separate client with its own connection, so the database (row locks, the
foreign keys) settles each race as it would in production; afterwards the post's count equals
its rows and no request failed with a 500.
"""

from collections import Counter

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from comments.models import Comment
from conftest import login
from core.exceptions import NotFoundError
from core.tests.concurrency import client_for, run_at_once, skip_without_real_locks
from moderation import services as moderation
from posts.models import Post
from posts.tests.factories import PostFactory

from .factories import CommentFactory
from .helpers import comment_not_found

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


@pytest.fixture(autouse=True)
def _real_connections():
    skip_without_real_locks()


def token_of(user) -> str:
    return login(APIClient(), user)["access_token"]


def post_job(token: str, post_id: int, body: dict):
    def job():
        return client_for(token).post(f"/posts/{post_id}/comments", body, format="json")

    return job


def delete_job(token: str, comment_id: int):
    def job():
        return client_for(token).delete(f"/comments/{comment_id}")

    return job


def statuses(responses) -> Counter:
    return Counter(response.status_code for response in responses)


def assert_count_is_the_rows(post, reader_token: str) -> int:
    """The kept count equals the shown rows, and the API says so; that number."""
    rows = Comment.objects.filter(post_id=post.pk, hidden_at__isnull=True).count()
    assert Post.objects.get(pk=post.pk).comment_count == rows
    assert client_for(reader_token).get(f"/posts/{post.pk}").json()["comments"] == rows
    return rows


def test_many_members_commenting_at_once_are_all_stored_and_counted():
    post = PostFactory()
    parent = CommentFactory(post=post)
    members = UserFactory.create_batch(THREADS)
    tokens = [token_of(member) for member in members]
    jobs = [
        post_job(
            token,
            post.pk,
            {"content": f"Comment {n}"} | ({"parent_id": parent.pk} if n % 2 else {}),
        )
        for n, token in enumerate(tokens)
    ]

    responses = run_at_once(jobs)

    assert statuses(responses) == {201: THREADS}
    stored = Comment.objects.filter(post=post).exclude(pk=parent.pk)
    assert sorted(stored.values_list("author_id", flat=True)) == sorted(m.pk for m in members)
    assert stored.filter(parent=parent).count() == THREADS // 2
    assert {r.json()["id"] for r in responses} == set(stored.values_list("pk", flat=True))
    assert assert_count_is_the_rows(post, tokens[0]) == THREADS + 1
    thread = client_for(tokens[0]).get(f"/posts/{post.pk}/comments")
    assert thread["X-Total-Count"] == str(THREADS + 1)


def test_the_same_comment_deleted_at_once_is_deleted_once_and_counted_once():
    owner, author = UserFactory.create_batch(2)
    staff = UserFactory(is_staff=True)
    post = PostFactory(owner=owner)
    target = CommentFactory(post=post, author=author)
    CommentFactory.reply_to(CommentFactory.reply_to(target))
    kept = CommentFactory(post=post)
    tokens = [token_of(member) for member in (author, owner, staff)]
    jobs = [delete_job(tokens[n % 3], target.pk) for n in range(THREADS)]

    responses = run_at_once(jobs)

    assert statuses(responses) == {204: 1, 404: THREADS - 1}
    for response in responses:
        if response.status_code == 404:
            assert response.json() == comment_not_found(target.pk)
    assert list(Comment.objects.values_list("pk", flat=True)) == [kept.pk]
    assert assert_count_is_the_rows(post, tokens[1]) == 1


def test_replies_racing_their_parents_deletion_never_outlive_it():
    owner, author = UserFactory.create_batch(2)
    post = PostFactory(owner=owner)
    parent = CommentFactory(post=post, author=author)
    repliers = UserFactory.create_batch(THREADS - 1)
    tokens = [token_of(member) for member in repliers]
    body = {"content": "Re.", "parent_id": parent.pk}
    jobs = [delete_job(token_of(author), parent.pk), *(post_job(t, post.pk, body) for t in tokens)]

    responses = run_at_once(jobs)

    assert responses[0].status_code == 204
    assert set(statuses(responses[1:])) <= {201, 422}
    for response in responses[1:]:
        if response.status_code == 422:
            assert response.json()["detail"][0]["loc"] == ["body", "parent_id"]
    assert not Comment.objects.exists()  # a reply that got in went with its parent
    assert assert_count_is_the_rows(post, token_of(owner)) == 0


def test_comments_racing_the_posts_deletion_never_outlive_it():
    owner = UserFactory()
    post = PostFactory(owner=owner)
    tokens = [token_of(member) for member in UserFactory.create_batch(THREADS - 1)]
    owner_token = token_of(owner)

    def delete_post():
        return client_for(owner_token).delete(f"/posts/{post.pk}")

    jobs = [delete_post, *(post_job(t, post.pk, {"content": "Hi"}) for t in tokens)]

    responses = run_at_once(jobs)

    assert responses[0].status_code == 204
    assert set(statuses(responses[1:])) <= {201, 404}
    for response in responses[1:]:
        if response.status_code == 404:
            assert response.json() == {"detail": f"Post with id: {post.pk} does not exist"}
    assert not Post.objects.filter(pk=post.pk).exists()
    assert not Comment.objects.exists()


def test_a_hide_racing_a_deletion_leaves_the_count_equal_to_the_rows():
    owner, author = UserFactory.create_batch(2)
    moderator = UserFactory(is_staff=True)
    post = PostFactory(owner=owner)
    targets = [CommentFactory(post=post, author=author) for _ in range(THREADS // 2)]
    kept = CommentFactory(post=post)
    author_token = token_of(author)

    def hide(comment):
        def job():
            try:
                return moderation.comment_hide(comment=comment, moderator=moderator, reason="x")
            except NotFoundError:  # deleted first: nothing left to hide
                return None

        return job

    jobs = [job for c in targets for job in (hide(c), delete_job(author_token, c.pk))]

    responses = run_at_once(jobs)

    assert [r.status_code for r in responses[1::2]] == [204] * len(targets)
    assert list(Comment.objects.values_list("pk", flat=True)) == [kept.pk]
    assert assert_count_is_the_rows(post, token_of(owner)) == 1


def test_comments_deleted_while_their_post_is_deleted_never_fail_with_a_500():
    owner = UserFactory()
    post = PostFactory(owner=owner)
    authors = UserFactory.create_batch(THREADS - 1)
    comments = [CommentFactory(post=post, author=author) for author in authors]
    owner_token = token_of(owner)

    def delete_post():
        return client_for(owner_token).delete(f"/posts/{post.pk}")

    jobs = [
        delete_post,
        *(delete_job(token_of(a), c.pk) for a, c in zip(authors, comments, strict=True)),
    ]

    responses = run_at_once(jobs)

    assert responses[0].status_code == 204
    assert set(statuses(responses[1:])) <= {204, 404}
    assert not Post.objects.filter(pk=post.pk).exists()
    assert not Comment.objects.exists()


def test_edits_holding_the_same_tag_at_once_one_is_made_the_rest_are_412():
    comment = CommentFactory()
    token = token_of(comment.author)
    tag = client_for(token).get(f"/comments/{comment.pk}")["ETag"]

    def edit_job(content: str):
        def job():
            return client_for(token).patch(
                f"/comments/{comment.pk}", {"content": content}, format="json", HTTP_IF_MATCH=tag
            )

        return job

    responses = run_at_once([edit_job(f"edit {n}") for n in range(THREADS)])

    assert statuses(responses) == {200: 1, 412: THREADS - 1}
    (winner,) = [response for response in responses if response.status_code == 200]
    assert Comment.objects.get(pk=comment.pk).content == winner.json()["content"]
    assert winner["ETag"] == client_for(token).get(f"/comments/{comment.pk}")["ETag"]
