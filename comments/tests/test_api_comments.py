"""The comment endpoints, to the letter of docs/api.md ("Comments"): statuses, bodies, headers and
what each call left in the database."""

from datetime import timedelta

import pytest
from django.utils import timezone

from comments.models import Comment
from moderation.models import Report
from posts.tests.factories import PostFactory

from .factories import CommentFactory
from .helpers import (
    NOT_A_REPLY_TARGET,
    ONLY_THE_AUTHOR_EDITS,
    ONLY_THEY_DELETE,
    SLASHES,
    aged_comments,
    assert_422,
    assert_unauthorized,
    comment_not_found,
    comment_shape,
    ids,
    links,
    post_not_found,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("api_cache")]

CONTENT = ("body", "content")
PARENT = ("body", "parent_id")
PATH_ID = ("path", "id")
NOT_AN_INTEGER = "A valid integer is required."


def comments_of(post) -> list[tuple]:
    return list(Comment.objects.filter(post=post).values_list("author_id", "parent_id", "content"))


# --- POST /posts/{id}/comments -----------------------------------------------------------------


@SLASHES
def test_comment_returns_201_the_comment_and_its_location(auth_client, user, post, slash):
    response = auth_client.post(
        f"/posts/{post.pk}/comments{slash}", {"content": "First!"}, format="json"
    )

    assert response.status_code == 201, response.content
    comment = Comment.objects.get()
    assert response.json() == comment_shape(comment)
    assert list(response.json()) == [
        "id",
        "post_id",
        "parent_id",
        "content",
        "created_at",
        "edited_at",
        "author",
    ]
    assert response["Location"] == f"/comments/{comment.pk}"
    assert (comment.post, comment.author, comment.parent, comment.content) == (
        post,
        user,
        None,
        "First!",
    )
    assert comment.edited_at is None and comment.hidden_at is None
    assert comment.created_at > timezone.now() - timedelta(minutes=1)


def test_a_reply_names_its_parent(auth_client, user, post):
    parent = CommentFactory(post=post)

    response = auth_client.post(
        f"/posts/{post.pk}/comments", {"content": "Agreed.", "parent_id": parent.pk}, format="json"
    )

    assert response.status_code == 201, response.content
    reply = Comment.objects.get(author=user)
    assert response.json() == comment_shape(reply)
    assert response.json()["parent_id"] == parent.pk
    assert (reply.post_id, reply.parent_id) == (post.pk, parent.pk)


def test_a_reply_to_a_reply_works_on_the_same_post(auth_client, user, post):
    first = CommentFactory(post=post)
    second = CommentFactory.reply_to(first)

    response = auth_client.post(
        f"/posts/{post.pk}/comments", {"content": "Deeper.", "parent_id": second.pk}, format="json"
    )

    assert response.status_code == 201, response.content
    third = Comment.objects.get(author=user)
    assert (third.parent_id, third.parent.parent_id, third.post_id) == (
        second.pk,
        first.pk,
        post.pk,
    )


def test_a_null_parent_id_is_a_top_level_comment(auth_client, post):
    response = auth_client.post(
        f"/posts/{post.pk}/comments", {"content": "Top.", "parent_id": None}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["parent_id"] is None
    assert Comment.objects.get().parent_id is None


@pytest.mark.parametrize("parent_id", ["", "null"], ids=["empty", "null"])
def test_a_form_says_a_null_parent_id_as_empty_or_null(auth_client, user, post, parent_id):
    form = f"content=Top.&parent_id={parent_id}"

    response = auth_client.post(
        f"/posts/{post.pk}/comments", form, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 201, response.content
    assert response.json()["parent_id"] is None
    assert comments_of(post) == [(user.pk, None, "Top.")]


def test_comment_ignores_read_only_fields_in_the_body(auth_client, user, other_user, post):
    existing = CommentFactory(post=post)
    elsewhere = PostFactory()
    body = {
        "content": "Mine.",
        "id": existing.pk,
        "post_id": elsewhere.pk,
        "author": {"id": other_user.pk},
        "author_id": other_user.pk,
        "created_at": "2000-01-01T00:00:00Z",
        "edited_at": "2000-01-01T00:00:00Z",
        "hidden": True,
    }

    response = auth_client.post(f"/posts/{post.pk}/comments", body, format="json")

    assert response.status_code == 201, response.content
    created = Comment.objects.get(author=user)
    assert response.json() == comment_shape(created)
    assert created.pk != existing.pk
    assert (created.post_id, created.edited_at, created.hidden_at) == (post.pk, None, None)
    assert created.created_at > timezone.now() - timedelta(minutes=1)
    assert Comment.objects.get(pk=existing.pk).content == existing.content
    assert not Comment.objects.filter(post=elsewhere).exists()


@pytest.mark.parametrize(
    "content", ["x" * 2000, "é" * 2000, "😀" * 2000], ids=["ascii", "é", "emoji"]
)
def test_content_of_2000_characters_is_accepted(auth_client, post, content):
    response = auth_client.post(f"/posts/{post.pk}/comments", {"content": content}, format="json")

    assert response.status_code == 201, response.content[:300]
    assert Comment.objects.get().content == content


@pytest.mark.parametrize(
    ("body", "msg", "type_"),
    [
        ({"content": ""}, "This field may not be blank.", "value_error"),
        ({"content": "   \n\t "}, "This field may not be blank.", "value_error"),
        (
            {"content": "x" * 2001},
            "Ensure this field has no more than 2000 characters.",
            "value_error",
        ),
        ({"content": 5}, "Not a valid string.", "value_error"),
        ({"content": 4.5}, "Not a valid string.", "value_error"),
        ({"content": ["a"]}, "Not a valid string.", "value_error"),
        ({"content": {"a": 1}}, "Not a valid string.", "value_error"),
        ({"content": True}, "Not a valid string.", "value_error"),
        ({"content": None}, "This field may not be null.", "missing"),
        ({"content": "a\x00b"}, "Null characters are not allowed.", "value_error"),
        ({}, "This field is required.", "missing"),
        ({"parent_id": None}, "This field is required.", "missing"),
    ],
    ids=[
        "empty",
        "whitespace",
        "2001-chars",
        "int",
        "float",
        "list",
        "object",
        "bool",
        "null",
        "nul-char",
        "missing",
        "missing-with-parent",
    ],
)
def test_bad_content_is_a_422_at_body_content_and_stores_nothing(
    auth_client, post, body, msg, type_
):
    response = auth_client.post(f"/posts/{post.pk}/comments", body, format="json")

    assert_422(response, (CONTENT, msg, type_))
    assert not Comment.objects.exists()


def test_a_parent_on_another_post_is_a_422_at_body_parent_id(auth_client, post):
    elsewhere = CommentFactory()  # on another post

    response = auth_client.post(
        f"/posts/{post.pk}/comments", {"content": "Hm.", "parent_id": elsewhere.pk}, format="json"
    )

    assert_422(response, (PARENT, NOT_A_REPLY_TARGET))
    assert comments_of(post) == []
    assert Comment.objects.count() == 1


@pytest.mark.parametrize("parent_id", [987654, 0, -1, 2**63 - 1], ids=str)
def test_an_unknown_parent_is_a_422_at_body_parent_id(auth_client, post, parent_id):
    response = auth_client.post(
        f"/posts/{post.pk}/comments", {"content": "Hm.", "parent_id": parent_id}, format="json"
    )

    assert_422(response, (PARENT, NOT_A_REPLY_TARGET))
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    ("parent_id", "msg"),
    [
        ("x", NOT_AN_INTEGER),
        ([1], NOT_AN_INTEGER),
        (1.5, NOT_AN_INTEGER),
        (2**63, "Ensure this value is less than or equal to 9223372036854775807."),
    ],
    ids=["word", "list", "float", "too-big"],
)
def test_a_parent_id_that_is_not_an_id_is_a_422(auth_client, post, parent_id, msg):
    response = auth_client.post(
        f"/posts/{post.pk}/comments", {"content": "Hm.", "parent_id": parent_id}, format="json"
    )

    assert_422(response, (PARENT, msg))
    assert not Comment.objects.exists()


def test_bad_content_and_parent_are_both_reported(auth_client, post):
    response = auth_client.post(
        f"/posts/{post.pk}/comments", {"content": "", "parent_id": "x"}, format="json"
    )

    assert response.status_code == 422
    assert sorted(response.json()["detail"], key=lambda entry: entry["loc"]) == [
        {"loc": list(CONTENT), "msg": "This field may not be blank.", "type": "value_error"},
        {"loc": list(PARENT), "msg": NOT_AN_INTEGER, "type": "value_error"},
    ]
    assert not Comment.objects.exists()


@SLASHES
@pytest.mark.parametrize("raw_id", ["abc", "1.0", "１", "%201"])
def test_a_bad_post_id_is_a_422_at_path_id_whatever_the_body(auth_client, post, raw_id, slash):
    response = auth_client.post(f"/posts/{raw_id}/comments{slash}", {"content": ""}, format="json")

    assert_422(response, (PATH_ID, NOT_AN_INTEGER))
    assert not Comment.objects.exists()


@SLASHES
def test_commenting_on_an_unknown_post_is_a_404(auth_client, slash):
    response = auth_client.post(f"/posts/987654/comments{slash}", {"content": "Hi"}, format="json")

    assert response.status_code == 404
    assert response.json() == post_not_found(987654)
    assert not Comment.objects.exists()


def test_commenting_on_another_members_draft_is_a_404(auth_client, other_user):
    draft = PostFactory(owner=other_user, published=False)

    response = auth_client.post(f"/posts/{draft.pk}/comments", {"content": "Hi"}, format="json")

    assert response.status_code == 404
    assert response.json() == post_not_found(draft.pk)
    assert not Comment.objects.exists()


def test_the_owner_comments_on_their_own_draft(auth_client, user):
    draft = PostFactory(owner=user, published=False)

    response = auth_client.post(f"/posts/{draft.pk}/comments", {"content": "Note"}, format="json")

    assert response.status_code == 201
    assert comments_of(draft) == [(user.pk, None, "Note")]


@SLASHES
def test_commenting_without_a_token_is_a_401(api_client, post, slash):
    response = api_client.post(
        f"/posts/{post.pk}/comments{slash}", {"content": "Hi"}, format="json"
    )

    assert_unauthorized(response)
    assert not Comment.objects.exists()


def test_commenting_with_a_bad_token_is_a_401(api_client, post):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    assert_unauthorized(
        api_client.post(f"/posts/{post.pk}/comments", {"content": "Hi"}, format="json")
    )
    assert not Comment.objects.exists()


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '"a string"', "{"])
def test_a_body_that_is_not_an_object_is_a_422(auth_client, post, raw):
    response = auth_client.post(f"/posts/{post.pk}/comments", raw, content_type="application/json")

    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)
    assert not Comment.objects.exists()


def test_a_form_body_is_accepted(auth_client, user, post):
    response = auth_client.post(f"/posts/{post.pk}/comments", {"content": "From a form"})

    assert response.status_code == 201
    assert comments_of(post) == [(user.pk, None, "From a form")]


# --- GET /posts/{id}/comments ------------------------------------------------------------------


@SLASHES
def test_the_thread_is_oldest_first_with_replies_in_place(auth_client, post, slash):
    now = timezone.now()
    middle = CommentFactory(post=post, created_at=now - timedelta(minutes=2))
    newest = CommentFactory(post=post, created_at=now - timedelta(minutes=1))
    oldest = CommentFactory(post=post, created_at=now - timedelta(minutes=3))
    reply = CommentFactory.reply_to(oldest, created_at=now)
    CommentFactory()  # on another post

    response = auth_client.get(f"/posts/{post.pk}/comments{slash}")

    assert response.status_code == 200
    assert response.json() == [comment_shape(c) for c in (oldest, middle, newest, reply)]
    assert response["X-Total-Count"] == "4"
    assert not response.has_header("Link")


def test_comments_written_at_the_same_moment_follow_their_ids(auth_client, post):
    moment = timezone.now()
    written = [CommentFactory(post=post, created_at=moment) for _ in range(3)]

    assert ids(auth_client.get(f"/posts/{post.pk}/comments")) == [c.pk for c in written]


def test_an_empty_thread_is_an_empty_list(auth_client, post):
    response = auth_client.get(f"/posts/{post.pk}/comments")

    assert response.status_code == 200
    assert response.json() == []
    assert response["X-Total-Count"] == "0"
    assert not response.has_header("Link")


def test_the_thread_pages_twenty_by_default(auth_client, post):
    thread = aged_comments(25, post=post)

    response = auth_client.get(f"/posts/{post.pk}/comments")

    assert ids(response) == [c.pk for c in thread[:20]]
    assert response["X-Total-Count"] == "25"
    assert links(response) == {
        "next": (f"/posts/{post.pk}/comments", {"limit": ["20"], "skip": ["20"]})
    }
    last = auth_client.get(f"/posts/{post.pk}/comments?skip=20")
    assert ids(last) == [c.pk for c in thread[20:]]
    assert links(last) == {"prev": (f"/posts/{post.pk}/comments", {"limit": ["20"], "skip": ["0"]})}


def test_skip_and_limit_page_the_thread_with_next_and_prev_links(auth_client, post):
    thread = aged_comments(12, post=post)

    response = auth_client.get(f"/posts/{post.pk}/comments/?limit=4&skip=4")

    assert ids(response) == [c.pk for c in thread[4:8]]
    assert response["X-Total-Count"] == "12"
    assert links(response) == {
        "next": (f"/posts/{post.pk}/comments/", {"limit": ["4"], "skip": ["8"]}),
        "prev": (f"/posts/{post.pk}/comments/", {"limit": ["4"], "skip": ["0"]}),
    }


def test_limit_zero_gives_nothing_and_skip_past_the_end_gives_nothing(auth_client, post):
    aged_comments(3, post=post)

    none = auth_client.get(f"/posts/{post.pk}/comments?limit=0")
    past = auth_client.get(f"/posts/{post.pk}/comments?skip=3")

    assert (none.status_code, none.json(), none["X-Total-Count"]) == (200, [], "3")
    assert (past.status_code, past.json(), past["X-Total-Count"]) == (200, [], "3")


def test_a_limit_above_a_hundred_counts_as_a_hundred(auth_client, post):
    aged_comments(101, post=post)

    response = auth_client.get(f"/posts/{post.pk}/comments?limit=500")

    assert len(response.json()) == 100
    assert response["X-Total-Count"] == "101"
    assert links(response)["next"][1] == {"limit": ["100"], "skip": ["100"]}


@pytest.mark.parametrize(
    ("query", "loc", "msg"),
    [
        ("limit=-1", "limit", "Ensure this value is greater than or equal to 0."),
        ("limit=abc", "limit", NOT_AN_INTEGER),
        ("limit=", "limit", NOT_AN_INTEGER),
        ("limit=1.5", "limit", NOT_AN_INTEGER),
        ("skip=-1", "skip", "Ensure this value is greater than or equal to 0."),
        ("skip=x", "skip", NOT_AN_INTEGER),
    ],
)
def test_a_bad_limit_or_skip_is_a_422_at_the_query(auth_client, post, query, loc, msg):
    CommentFactory(post=post)

    response = auth_client.get(f"/posts/{post.pk}/comments?{query}")

    assert_422(response, (("query", loc), msg))


@SLASHES
def test_the_thread_of_an_unknown_post_is_a_404(auth_client, slash):
    response = auth_client.get(f"/posts/987654/comments{slash}")

    assert response.status_code == 404
    assert response.json() == post_not_found(987654)


def test_the_thread_of_another_members_draft_is_a_404(auth_client, other_user):
    draft = PostFactory(owner=other_user, published=False)
    CommentFactory(post=draft, author=other_user)

    response = auth_client.get(f"/posts/{draft.pk}/comments")

    assert response.status_code == 404
    assert response.json() == post_not_found(draft.pk)


def test_the_thread_with_a_bad_post_id_is_a_422(auth_client):
    assert_422(auth_client.get("/posts/abc/comments"), (PATH_ID, NOT_AN_INTEGER))


@SLASHES
def test_the_thread_without_a_token_is_a_401(api_client, post, slash):
    CommentFactory(post=post)
    assert_unauthorized(api_client.get(f"/posts/{post.pk}/comments{slash}"))


# --- GET /comments/{id} ------------------------------------------------------------------------


@SLASHES
def test_get_returns_the_comment(auth_client, post, slash):
    parent = CommentFactory(post=post)
    reply = CommentFactory.reply_to(parent)

    response = auth_client.get(f"/comments/{reply.pk}{slash}")

    assert response.status_code == 200
    assert response.json() == comment_shape(reply)
    assert response.json()["parent_id"] == parent.pk


@SLASHES
def test_get_an_unknown_comment_is_a_404(auth_client, slash):
    response = auth_client.get(f"/comments/987654{slash}")

    assert response.status_code == 404
    assert response.json() == comment_not_found(987654)


def test_get_a_comment_on_another_members_draft_is_a_404(auth_client, other_user):
    comment = CommentFactory(post=PostFactory(owner=other_user, published=False), author=other_user)

    response = auth_client.get(f"/comments/{comment.pk}")

    assert response.status_code == 404
    assert response.json() == comment_not_found(comment.pk)


@pytest.mark.parametrize("raw_id", ["abc", "1.0", "１"])
def test_get_with_a_bad_id_is_a_422(auth_client, raw_id):
    assert_422(auth_client.get(f"/comments/{raw_id}"), (PATH_ID, NOT_AN_INTEGER))


@SLASHES
def test_get_without_a_token_is_a_401(api_client, slash):
    assert_unauthorized(api_client.get(f"/comments/{CommentFactory().pk}{slash}"))


# --- PATCH /comments/{id} ----------------------------------------------------------------------


@SLASHES
def test_the_author_edits_the_content_and_edited_at_is_set(auth_client, user, post, slash):
    comment = CommentFactory(post=post, author=user, content="Teh cursor")
    before = timezone.now()

    response = auth_client.patch(
        f"/comments/{comment.pk}{slash}", {"content": "The cursor"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json() == comment_shape(comment)
    stored = Comment.objects.get(pk=comment.pk)
    assert stored.content == "The cursor"
    assert stored.edited_at is not None and stored.edited_at >= before
    assert response.json()["edited_at"] is not None
    assert (stored.created_at, stored.post_id, stored.parent_id, stored.author_id) == (
        comment.created_at,
        post.pk,
        None,
        user.pk,
    )


def test_editing_changes_only_the_content(auth_client, user, post, other_user):
    parent = CommentFactory(post=post)
    reply = CommentFactory.reply_to(parent, author=user)
    elsewhere = PostFactory()
    body = {
        "content": "New words",
        "post_id": elsewhere.pk,
        "parent_id": None,
        "author": {"id": other_user.pk},
        "created_at": "2000-01-01T00:00:00Z",
        "edited_at": "2000-01-01T00:00:00Z",
    }

    response = auth_client.patch(f"/comments/{reply.pk}", body, format="json")

    assert response.status_code == 200, response.content
    stored = Comment.objects.get(pk=reply.pk)
    assert (stored.content, stored.post_id, stored.parent_id, stored.author_id) == (
        "New words",
        post.pk,
        parent.pk,
        user.pk,
    )
    assert stored.created_at == reply.created_at
    assert stored.edited_at > timezone.now() - timedelta(minutes=1)


def test_another_member_cannot_edit_and_nothing_changes(auth_client, post, other_user):
    comment = CommentFactory(post=post, content="Original")

    response = auth_client.patch(f"/comments/{comment.pk}", {"content": "Vandal"}, format="json")

    assert response.status_code == 403
    assert response.json() == ONLY_THE_AUTHOR_EDITS
    stored = Comment.objects.get(pk=comment.pk)
    assert (stored.content, stored.edited_at) == ("Original", None)


@pytest.mark.parametrize("who", ["post owner", "staff"])
def test_neither_the_post_owner_nor_staff_edit_someone_elses_comment(
    other_client, staff_client, user, post, who
):
    comment = CommentFactory(post=post, author=user, content="Original")
    client = other_client if who == "post owner" else staff_client

    response = client.patch(f"/comments/{comment.pk}", {"content": "Changed"}, format="json")

    assert response.status_code == 403
    assert response.json() == ONLY_THE_AUTHOR_EDITS
    assert Comment.objects.get(pk=comment.pk).content == "Original"


def test_not_being_the_author_is_said_before_what_is_wrong_with_the_body(auth_client, post):
    comment = CommentFactory(post=post)

    response = auth_client.patch(f"/comments/{comment.pk}", {"content": ""}, format="json")

    assert response.status_code == 403
    assert response.json() == ONLY_THE_AUTHOR_EDITS


@pytest.mark.parametrize(
    ("body", "msg", "type_"),
    [
        ({"content": ""}, "This field may not be blank.", "value_error"),
        ({"content": "  "}, "This field may not be blank.", "value_error"),
        (
            {"content": "x" * 2001},
            "Ensure this field has no more than 2000 characters.",
            "value_error",
        ),
        ({"content": 7}, "Not a valid string.", "value_error"),
        ({"content": None}, "This field may not be null.", "missing"),
        ({}, "This field is required.", "missing"),
    ],
    ids=["empty", "whitespace", "2001-chars", "int", "null", "missing"],
)
def test_a_bad_edit_is_a_422_and_nothing_changes(auth_client, user, post, body, msg, type_):
    comment = CommentFactory(post=post, author=user, content="Original")

    response = auth_client.patch(f"/comments/{comment.pk}", body, format="json")

    assert_422(response, (CONTENT, msg, type_))
    stored = Comment.objects.get(pk=comment.pk)
    assert (stored.content, stored.edited_at) == ("Original", None)


def test_an_edit_of_2000_characters_is_accepted(auth_client, user, post):
    comment = CommentFactory(post=post, author=user)

    response = auth_client.patch(f"/comments/{comment.pk}", {"content": "y" * 2000}, format="json")

    assert response.status_code == 200
    assert Comment.objects.get(pk=comment.pk).content == "y" * 2000


@SLASHES
def test_editing_an_unknown_comment_is_a_404(auth_client, slash):
    response = auth_client.patch(f"/comments/987654{slash}", {"content": "x"}, format="json")

    assert response.status_code == 404
    assert response.json() == comment_not_found(987654)


def test_editing_with_a_bad_id_is_a_422(auth_client):
    assert_422(
        auth_client.patch("/comments/abc", {"content": "x"}, format="json"),
        (PATH_ID, NOT_AN_INTEGER),
    )


def test_editing_without_a_token_is_a_401(api_client, user):
    comment = CommentFactory(author=user, content="Original")

    assert_unauthorized(
        api_client.patch(f"/comments/{comment.pk}", {"content": "x"}, format="json")
    )
    assert Comment.objects.get(pk=comment.pk).content == "Original"


def test_put_is_not_a_method_of_a_comment(auth_client, user):
    comment = CommentFactory(author=user, content="Original")

    response = auth_client.put(f"/comments/{comment.pk}", {"content": "x"}, format="json")

    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "PUT" not allowed.'}
    assert Comment.objects.get(pk=comment.pk).content == "Original"


# --- DELETE /comments/{id} ---------------------------------------------------------------------


@SLASHES
def test_the_author_deletes_their_comment(auth_client, user, post, slash):
    comment = CommentFactory(post=post, author=user)
    kept = CommentFactory(post=post)

    response = auth_client.delete(f"/comments/{comment.pk}{slash}")

    assert response.status_code == 204
    assert response.content == b""
    assert list(Comment.objects.values_list("pk", flat=True)) == [kept.pk]


@SLASHES
def test_the_post_owner_deletes_a_comment_on_their_post(other_client, user, post, slash):
    comment = CommentFactory(post=post, author=user)

    response = other_client.delete(f"/comments/{comment.pk}{slash}")

    assert response.status_code == 204
    assert not Comment.objects.exists()


@SLASHES
def test_staff_delete_any_comment(staff_client, post, slash):
    comment = CommentFactory(post=post)

    response = staff_client.delete(f"/comments/{comment.pk}{slash}")

    assert response.status_code == 204
    assert not Comment.objects.exists()


def test_another_member_cannot_delete_and_the_comment_stays(auth_client, post):
    comment = CommentFactory(post=post)

    response = auth_client.delete(f"/comments/{comment.pk}")

    assert response.status_code == 403
    assert response.json() == ONLY_THEY_DELETE
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_the_author_of_a_reply_cannot_delete_its_parent(auth_client, user, post):
    parent = CommentFactory(post=post)
    CommentFactory.reply_to(parent, author=user)

    response = auth_client.delete(f"/comments/{parent.pk}")

    assert response.status_code == 403
    assert response.json() == ONLY_THEY_DELETE
    assert Comment.objects.count() == 2


def test_deleting_a_comment_deletes_its_replies_and_theirs(auth_client, user, post):
    comment = CommentFactory(post=post, author=user)
    reply = CommentFactory.reply_to(comment)
    CommentFactory.reply_to(reply)
    CommentFactory.reply_to(comment)
    sibling = CommentFactory(post=post)
    sibling_reply = CommentFactory.reply_to(sibling)
    elsewhere = CommentFactory()

    response = auth_client.delete(f"/comments/{comment.pk}")

    assert response.status_code == 204
    assert set(Comment.objects.values_list("pk", flat=True)) == {
        sibling.pk,
        sibling_reply.pk,
        elsewhere.pk,
    }


def test_deleting_a_reply_leaves_its_parent(auth_client, user, post):
    parent = CommentFactory(post=post)
    reply = CommentFactory.reply_to(parent, author=user)

    assert auth_client.delete(f"/comments/{reply.pk}").status_code == 204

    assert list(Comment.objects.values_list("pk", flat=True)) == [parent.pk]


def test_deleting_twice_is_a_404_the_second_time(auth_client, user):
    comment = CommentFactory(author=user)
    assert auth_client.delete(f"/comments/{comment.pk}").status_code == 204

    response = auth_client.delete(f"/comments/{comment.pk}")

    assert response.status_code == 404
    assert response.json() == comment_not_found(comment.pk)


@SLASHES
def test_deleting_an_unknown_comment_is_a_404(auth_client, slash):
    response = auth_client.delete(f"/comments/987654{slash}")

    assert response.status_code == 404
    assert response.json() == comment_not_found(987654)


def test_deleting_with_a_bad_id_is_a_422(auth_client):
    assert_422(auth_client.delete("/comments/abc"), (PATH_ID, NOT_AN_INTEGER))


@SLASHES
def test_deleting_without_a_token_is_a_401(api_client, user, slash):
    comment = CommentFactory(author=user)

    assert_unauthorized(api_client.delete(f"/comments/{comment.pk}{slash}"))
    assert Comment.objects.filter(pk=comment.pk).exists()


# --- POST /comments/{id}/report ----------------------------------------------------------------


@SLASHES
def test_reporting_a_comment_files_one_open_report(auth_client, user, post, slash):
    comment = CommentFactory(post=post)

    response = auth_client.post(
        f"/comments/{comment.pk}/report{slash}", {"reason": "Rude"}, format="json"
    )

    assert response.status_code == 201, response.content
    report = Report.objects.get()
    assert (report.reporter, report.comment_id, report.post_id, report.reason) == (
        user,
        comment.pk,
        post.pk,
        "Rude",
    )
    assert (response.json()["comment_id"], response.json()["post_id"]) == (comment.pk, post.pk)


def test_a_second_open_report_on_a_comment_is_a_409(auth_client, post):
    comment = CommentFactory(post=post)
    assert auth_client.post(f"/comments/{comment.pk}/report", {"reason": "a"}).status_code == 201

    response = auth_client.post(f"/comments/{comment.pk}/report", {"reason": "b"})

    assert response.status_code == 409
    assert isinstance(response.json()["detail"], str)
    assert Report.objects.count() == 1


def test_reporting_a_comment_one_cannot_see_is_a_404(auth_client, other_user):
    comment = CommentFactory(post=PostFactory(owner=other_user, published=False))

    for comment_id in (comment.pk, 987654):
        response = auth_client.post(f"/comments/{comment_id}/report", {"reason": "x"})
        assert response.status_code == 404
        assert response.json() == comment_not_found(comment_id)
    assert not Report.objects.exists()


def test_the_thread_shows_the_authors_current_email(auth_client, user, post):
    comment = CommentFactory(post=post, author=user)
    assert auth_client.get(f"/posts/{post.pk}/comments").json()[0]["author"]["email"] == user.email

    response = auth_client.patch("/users/me", {"email": "renamed@example.com"}, format="json")

    assert response.status_code == 200, response.content
    listed = auth_client.get(f"/posts/{post.pk}/comments").json()
    assert listed == [comment_shape(comment)]
    assert listed[0]["author"]["email"] == "renamed@example.com"
    assert auth_client.get(f"/comments/{comment.pk}").json()["author"]["email"] == (
        "renamed@example.com"
    )


def test_an_edit_shows_in_the_thread_at_once(auth_client, other_client, user, post):
    comment = CommentFactory(post=post, author=user, content="Before")
    assert other_client.get(f"/posts/{post.pk}/comments").json()[0]["content"] == "Before"

    assert auth_client.patch(f"/comments/{comment.pk}", {"content": "After"}).status_code == 200

    listed = other_client.get(f"/posts/{post.pk}/comments").json()
    assert listed == [comment_shape(comment)]
    assert (listed[0]["content"], listed[0]["edited_at"] is not None) == ("After", True)


def test_a_deleted_comment_leaves_the_thread_at_once(auth_client, other_client, user, post):
    comment = CommentFactory(post=post, author=user)
    kept = CommentFactory(post=post)
    assert ids(other_client.get(f"/posts/{post.pk}/comments")) == [comment.pk, kept.pk]

    assert auth_client.delete(f"/comments/{comment.pk}").status_code == 204

    response = other_client.get(f"/posts/{post.pk}/comments")
    assert (ids(response), response["X-Total-Count"]) == ([kept.pk], "1")


def test_the_thread_of_a_deleted_post_is_a_404(auth_client, other_client, post):
    comment = CommentFactory(post=post)
    assert auth_client.get(f"/posts/{post.pk}/comments").status_code == 200

    assert other_client.delete(f"/posts/{post.pk}").status_code == 204

    response = auth_client.get(f"/posts/{post.pk}/comments")
    assert response.status_code == 404
    assert response.json() == post_not_found(post.pk)
    assert auth_client.get(f"/comments/{comment.pk}").json() == comment_not_found(comment.pk)
    assert not Comment.objects.exists()
