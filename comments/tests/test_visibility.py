"""Who sees which comment (docs/api.md "Comments" and the blocks of Part 3): in a thread, in its
`X-Total-Count`, by id, and as a reply target. Each scene is read once before the change that
matters, so a read cached before it cannot be served after it."""

import pytest

from accounts.tests.factories import UserFactory
from comments.models import Comment
from moderation import services as moderation
from posts.tests.factories import PostFactory
from social import services as social

from .factories import CommentFactory
from .helpers import (
    NOT_A_REPLY_TARGET,
    assert_422,
    client_of,
    comment_not_found,
    comment_shape,
    post_not_found,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("api_cache")]


def thread(client, post) -> tuple[list[int], int]:
    """The comment ids `client` is shown on `post`, and the `X-Total-Count` it is told."""
    response = client.get(f"/posts/{post.pk}/comments")
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()], int(response["X-Total-Count"])


def reply(client, comment):
    return client.post(
        f"/posts/{comment.post_id}/comments",
        {"content": "Re.", "parent_id": comment.pk},
        format="json",
    )


def assert_comment_hidden_from(client, comment):
    """`client` cannot read, reply to, edit or delete `comment`: each says it does not exist."""
    for response in (
        client.get(f"/comments/{comment.pk}"),
        client.patch(f"/comments/{comment.pk}", {"content": "x"}, format="json"),
        client.delete(f"/comments/{comment.pk}"),
    ):
        assert response.status_code == 404
        assert response.json() == comment_not_found(comment.pk)
    assert Comment.objects.filter(pk=comment.pk, content=comment.content).exists()


def assert_post_hidden_from(client, post):
    thread_read = client.get(f"/posts/{post.pk}/comments")
    written = client.post(f"/posts/{post.pk}/comments", {"content": "Hi"}, format="json")
    for response in (thread_read, written):
        assert response.status_code == 404
        assert response.json() == post_not_found(post.pk)


# --- drafts ------------------------------------------------------------------------------------


def test_only_the_owner_sees_and_comments_on_their_draft(
    user, auth_client, other_client, staff_client
):
    draft = PostFactory(owner=user, published=False)

    written = auth_client.post(f"/posts/{draft.pk}/comments", {"content": "Note"}, format="json")

    assert written.status_code == 201
    note = Comment.objects.get()
    assert thread(auth_client, draft) == ([note.pk], 1)
    for client in (other_client, staff_client):  # staff see no one's drafts either
        assert_post_hidden_from(client, draft)
        assert_comment_hidden_from(client, note)
    assert Comment.objects.count() == 1


def test_publishing_a_draft_shows_its_comments(user, auth_client, other_client):
    draft = PostFactory(owner=user, published=False)
    note = CommentFactory(post=draft, author=user)
    other_client.get(f"/posts/{draft.pk}/comments")

    response = auth_client.put(
        f"/posts/{draft.pk}", {"title": "t", "content": "c", "published": True}, format="json"
    )

    assert response.status_code == 200
    assert thread(other_client, draft) == ([note.pk], 1)
    assert other_client.get(f"/comments/{note.pk}").json() == comment_shape(note)


# --- hidden posts ------------------------------------------------------------------------------


@pytest.fixture
def hidden_post_scene(user, other_user, staff_user, post):
    """`user` commented on `other_user`'s post, which a moderator then hid."""
    comment = CommentFactory(post=post, author=user)
    reader = UserFactory()
    reader_client = client_of(reader)
    thread(reader_client, post)  # read while it showed
    moderation.post_hide(post=post, moderator=staff_user, reason="off topic")
    return {"comment": comment, "reader": reader_client}


def test_the_comments_on_a_hidden_post_show_to_its_owner_and_staff(
    other_client, staff_client, post, hidden_post_scene
):
    comment = hidden_post_scene["comment"]

    for client in (other_client, staff_client):
        assert thread(client, post) == ([comment.pk], 1)
        assert client.get(f"/comments/{comment.pk}").json() == comment_shape(comment)


def test_the_comments_on_a_hidden_post_are_gone_for_everyone_else(post, hidden_post_scene):
    reader = hidden_post_scene["reader"]

    assert_post_hidden_from(reader, post)
    assert_comment_hidden_from(reader, hidden_post_scene["comment"])
    assert Comment.objects.count() == 1


def test_the_author_still_reads_their_comment_on_a_hidden_post(
    auth_client, post, hidden_post_scene
):
    comment = hidden_post_scene["comment"]

    response = auth_client.get(f"/comments/{comment.pk}")

    assert response.status_code == 200
    assert response.json() == comment_shape(comment)
    assert_post_hidden_from(auth_client, post)  # the post itself, and so its thread, is not theirs


def test_unhiding_the_post_shows_its_comments_again(staff_user, post, hidden_post_scene):
    reader = hidden_post_scene["reader"]
    comment = hidden_post_scene["comment"]
    reader.get(f"/posts/{post.pk}/comments")

    moderation.post_unhide(post=post, moderator=staff_user)

    assert thread(reader, post) == ([comment.pk], 1)
    assert reader.get(f"/comments/{comment.pk}").status_code == 200


# --- hidden comments ---------------------------------------------------------------------------


@pytest.fixture
def hidden_comment_scene(user, staff_user, post):
    """On `other_user`'s post: a comment of `user` that a moderator hid, between two others."""
    before = CommentFactory(post=post)
    hidden = CommentFactory(post=post, author=user)
    after = CommentFactory(post=post)
    reader = client_of(UserFactory())
    thread(reader, post)  # read while it showed
    moderation.comment_hide(comment=hidden, moderator=staff_user, reason="spam")
    return {"shown": [before, after], "hidden": hidden, "reader": reader}


def hidden_shape(comment) -> dict:
    shape = comment_shape(comment)
    assert (shape["hidden"], shape["hidden_reason"]) == (True, "spam")
    return shape


@pytest.mark.parametrize("who", ["author", "post owner", "staff"])
def test_a_hidden_comment_shows_marked_to_its_author_the_post_owner_and_staff(
    auth_client, other_client, staff_client, post, hidden_comment_scene, who
):
    client = {"author": auth_client, "post owner": other_client, "staff": staff_client}[who]
    before, after = hidden_comment_scene["shown"]
    hidden = hidden_comment_scene["hidden"]

    listed = client.get(f"/posts/{post.pk}/comments")
    by_id = client.get(f"/comments/{hidden.pk}")

    assert listed.json() == [comment_shape(before), hidden_shape(hidden), comment_shape(after)]
    assert listed["X-Total-Count"] == "3"
    assert by_id.status_code == 200
    assert by_id.json() == hidden_shape(hidden)
    assert list(by_id.json())[-2:] == ["hidden", "hidden_reason"]


def test_a_hidden_comment_is_gone_for_everyone_else(post, hidden_comment_scene):
    reader = hidden_comment_scene["reader"]
    before, after = hidden_comment_scene["shown"]
    hidden = hidden_comment_scene["hidden"]

    response = reader.get(f"/posts/{post.pk}/comments")

    assert response.json() == [comment_shape(before), comment_shape(after)]
    assert response["X-Total-Count"] == "2"
    assert all("hidden" not in item for item in response.json())
    assert_comment_hidden_from(reader, hidden)


def test_no_one_else_can_reply_to_a_hidden_comment(post, hidden_comment_scene):
    hidden = hidden_comment_scene["hidden"]

    response = reply(hidden_comment_scene["reader"], hidden)

    assert_422(response, (("body", "parent_id"), NOT_A_REPLY_TARGET))
    assert not Comment.objects.filter(parent=hidden).exists()


def test_editing_a_hidden_comment_keeps_it_hidden(auth_client, post, hidden_comment_scene):
    hidden = hidden_comment_scene["hidden"]

    response = auth_client.patch(f"/comments/{hidden.pk}", {"content": "Nicer"}, format="json")

    assert response.status_code == 200
    assert response.json() == hidden_shape(hidden)
    assert response.json()["content"] == "Nicer"
    assert Comment.objects.get(pk=hidden.pk).hidden_at is not None
    assert thread(hidden_comment_scene["reader"], post)[1] == 2


def test_unhiding_a_comment_shows_it_to_everyone_again(staff_user, post, hidden_comment_scene):
    reader = hidden_comment_scene["reader"]
    before, after = hidden_comment_scene["shown"]
    hidden = hidden_comment_scene["hidden"]
    reader.get(f"/posts/{post.pk}/comments")

    moderation.comment_unhide(comment=hidden, moderator=staff_user)

    response = reader.get(f"/posts/{post.pk}/comments")
    assert response.json() == [comment_shape(c) for c in (before, hidden, after)]
    assert response["X-Total-Count"] == "3"
    assert reader.get(f"/comments/{hidden.pk}").json() == comment_shape(hidden)
    assert "hidden" not in comment_shape(hidden)


# --- blocks ------------------------------------------------------------------------------------


@pytest.fixture
def block_scene(user, other_user, post):
    """On `other_user`'s post, a comment of `user` (the reader) and of `writer`, and one of a
    bystander; `writer` also has a post. Nobody is blocked yet; each has read the thread."""
    writer = UserFactory()
    scene = {
        "reader": user,
        "writer": writer,
        "readers": CommentFactory(post=post, author=user),
        "writers": CommentFactory(post=post, author=writer),
        "bystanders": CommentFactory(post=post),
        "writers_post": PostFactory(owner=writer),
        "writer_client": client_of(writer),
    }
    return scene


def block(scene, who_blocked):
    reader, writer = scene["reader"], scene["writer"]
    if who_blocked == "reader":
        assert social.block_create(blocker=reader, blocked_id=writer.pk)
    else:
        assert social.block_create(blocker=writer, blocked_id=reader.pk)


BOTH_WAYS = pytest.mark.parametrize("who_blocked", ["reader", "writer"])


@BOTH_WAYS
def test_a_block_takes_each_ones_comments_out_of_the_others_thread(
    auth_client, post, block_scene, who_blocked
):
    writer_client = block_scene["writer_client"]
    everyone = [block_scene[k].pk for k in ("readers", "writers", "bystanders")]
    assert thread(auth_client, post) == (everyone, 3)
    assert thread(writer_client, post) == (everyone, 3)

    block(block_scene, who_blocked)

    bystanders = block_scene["bystanders"].pk
    assert thread(auth_client, post) == ([block_scene["readers"].pk, bystanders], 2)
    assert thread(writer_client, post) == ([block_scene["writers"].pk, bystanders], 2)


@BOTH_WAYS
def test_a_block_hides_each_ones_comments_from_the_other_by_id(
    auth_client, block_scene, who_blocked
):
    writer_client = block_scene["writer_client"]
    auth_client.get(f"/comments/{block_scene['writers'].pk}")

    block(block_scene, who_blocked)

    assert_comment_hidden_from(auth_client, block_scene["writers"])
    assert_comment_hidden_from(writer_client, block_scene["readers"])
    assert auth_client.get(f"/comments/{block_scene['readers'].pk}").status_code == 200


@BOTH_WAYS
def test_a_block_stops_replies_to_each_others_comments(auth_client, block_scene, who_blocked):
    block(block_scene, who_blocked)

    mine = reply(auth_client, block_scene["writers"])
    theirs = reply(block_scene["writer_client"], block_scene["readers"])

    for response in (mine, theirs):
        assert_422(response, (("body", "parent_id"), NOT_A_REPLY_TARGET))
    assert not Comment.objects.filter(parent__isnull=False).exists()


@BOTH_WAYS
def test_a_block_stops_comments_on_each_others_posts(user, auth_client, block_scene, who_blocked):
    readers_post = PostFactory(owner=user)
    writers_post = block_scene["writers_post"]

    block(block_scene, who_blocked)

    assert_post_hidden_from(auth_client, writers_post)
    assert_post_hidden_from(block_scene["writer_client"], readers_post)
    assert not Comment.objects.filter(post__in=[readers_post, writers_post]).exists()


def test_lifting_the_block_shows_their_comments_again(user, auth_client, post, block_scene):
    block(block_scene, "reader")
    thread(auth_client, post)

    social.block_delete(blocker=user, blocked_id=block_scene["writer"].pk)

    assert thread(auth_client, post)[1] == 3
    assert auth_client.get(f"/comments/{block_scene['writers'].pk}").status_code == 200
    assert reply(auth_client, block_scene["writers"]).status_code == 201


def test_a_block_leaves_bystanders_and_staff_seeing_everything(
    staff_user, staff_client, post, block_scene
):
    block(block_scene, "writer")
    assert social.block_create(blocker=block_scene["writer"], blocked_id=staff_user.pk)
    bystander = client_of(UserFactory())

    for client in (bystander, staff_client):
        assert thread(client, post)[1] == 3
        assert client.get(f"/comments/{block_scene['writers'].pk}").status_code == 200


def test_a_post_owner_who_blocks_a_commenter_no_longer_sees_their_comments(
    other_user, other_client, auth_client, post, block_scene
):
    readers = block_scene["readers"]
    thread(other_client, post)

    assert social.block_create(blocker=other_user, blocked_id=block_scene["reader"].pk)

    ids, total = thread(other_client, post)
    assert readers.pk not in ids and total == 2
    assert_comment_hidden_from(other_client, readers)
    # The commenter no longer sees the post, but still their own words.
    assert_post_hidden_from(auth_client, post)
    assert auth_client.get(f"/comments/{readers.pk}").json() == comment_shape(readers)


@pytest.mark.parametrize("how", ["by its author", "with its author's account"])
def test_a_deleted_hidden_comment_leaves_the_thread_of_those_who_saw_it(
    user, auth_client, other_client, staff_client, post, hidden_comment_scene, how
):
    before, after = hidden_comment_scene["shown"]
    hidden = hidden_comment_scene["hidden"]
    for client in (other_client, staff_client):
        assert thread(client, post) == ([before.pk, hidden.pk, after.pk], 3)

    if how == "by its author":
        assert auth_client.delete(f"/comments/{hidden.pk}").status_code == 204
    else:
        user.delete()

    for client in (other_client, staff_client):
        assert thread(client, post) == ([before.pk, after.pk], 2)
        assert client.get(f"/comments/{hidden.pk}").status_code == 404


def test_turning_a_post_back_into_a_draft_hides_its_thread(other_client, auth_client, user, post):
    mine = CommentFactory(post=post, author=user)
    theirs = CommentFactory(post=post)
    assert thread(auth_client, post) == ([mine.pk, theirs.pk], 2)

    response = other_client.patch(f"/posts/{post.pk}", {"published": False}, format="json")

    assert response.status_code == 200
    assert_post_hidden_from(auth_client, post)
    assert_comment_hidden_from(auth_client, theirs)
    assert thread(other_client, post) == ([mine.pk, theirs.pk], 2)
