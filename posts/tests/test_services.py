"""posts.services.post_get_visible: what every vote and comment reads first, by a query
compiled once per process for each kind of caller, answers the one visibility rule."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts.tests.factories import BlockFactory, UserFactory
from core.exceptions import NotFoundError
from posts.models import Post
from posts.services import post_get_visible
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


def sees(user, post) -> bool:
    try:
        found = post_get_visible(user=user, post_id=post.pk)
    except NotFoundError:
        return False
    assert found == post and found.title == post.title and found.owner_id == post.owner_id
    return True


def test_each_caller_sees_what_the_rule_shows_them_in_one_process():
    owner, member, blocked, staff = UserFactory(), UserFactory(), UserFactory(), UserFactory()
    staff.is_staff = True
    staff.save()
    BlockFactory(blocker=owner, blocked=blocked)
    public = PostFactory(owner=owner)
    draft = PostFactory(owner=owner, published=False)
    hidden = PostFactory(owner=owner, hidden_at=timezone.now())
    anyone = AnonymousUser()

    # Each caller in turn, the same posts: one caller's compiled query never serves another.
    seen = {
        name: [sees(user, post) for post in (public, draft, hidden)]
        for name, user in [
            ("staff", staff),
            ("member", member),
            ("owner", owner),
            ("blocked", blocked),
            ("anyone", anyone),
            ("staff again", staff),
        ]
    }

    assert seen == {
        "staff": [True, False, True],
        "member": [True, False, False],
        "owner": [True, True, True],
        "blocked": [False, False, False],
        "anyone": [True, False, False],
        "staff again": [True, False, True],
    }


def test_an_unknown_post_is_the_vote_endpoints_404(user):
    with pytest.raises(NotFoundError) as raised:
        post_get_visible(user=user, post_id=2**63 - 1)

    assert raised.value.message == f"Post with id: {2**63 - 1} does not exist"


def test_the_post_read_is_the_whole_row_as_the_database_holds_it(user):
    post = PostFactory()

    found = post_get_visible(user=user, post_id=post.pk)

    assert found._state.adding is False and found._state.db == "default"
    assert {f.attname: getattr(found, f.attname) for f in Post._meta.concrete_fields} == {
        f.attname: getattr(post, f.attname) for f in Post._meta.concrete_fields
    }
