"""Follows and blocks: each write locks both members first, so the rules hold under races.

Locking the two member rows (in id order, `FOR NO KEY UPDATE`) queues a follow behind a block
of the same pair and behind a suspension of either member, without slowing anything else
(inserting a post or a vote only takes a key-share lock on its member). A block therefore never
leaves a follow behind, and the counts never miss a suspension. Two identical writes at once
queue too: the second finds the first one's row and changes nothing.
"""

from django.db import transaction

from accounts.models import Block, User
from accounts.services import user_update
from core import cache, conditional
from core.exceptions import ForbiddenError, NotFoundError, RequestValidationError

from . import selectors
from .models import Follow


def member_not_found(user_id: int) -> NotFoundError:
    return NotFoundError(f"User with id: {user_id} does not exist")


def _lock_pair(caller: User, other_id: int) -> User:
    """Lock the caller's and the other member's rows; the other member, or a 404."""
    locked = {
        member.pk: member
        for member in User.objects.select_for_update(no_key=True)
        .filter(pk__in=[caller.pk, other_id])
        .order_by("pk")
    }
    if other_id not in locked:
        raise member_not_found(other_id)
    return locked[other_id]


def _refuse_self(caller: User, other_id: int, *, verb: str) -> None:
    if other_id == caller.pk:
        raise RequestValidationError({"id": [f"You cannot {verb} yourself."]}, location="path")


def _block_changed(*member_ids: int) -> None:
    """Retire the two members' cached profiles, relations and block sets (one round trip)."""
    cache.invalidate(*(f"{name}:{pk}" for pk in member_ids for name in ("graph-of", "blocks-of")))


@transaction.atomic
def follow_create(*, follower: User, followee_id: int) -> tuple[User, bool]:
    """Follow a member once; (them, whether this call made the follow)."""
    _refuse_self(follower, followee_id, verb="follow")
    followee = _lock_pair(follower, followee_id)
    if Block.objects.between(follower.pk, followee_id).exists():
        raise ForbiddenError("You cannot follow this user")
    _, created = Follow.objects.get_or_create(follower=follower, followee=followee)
    return followee, created  # (Follow.save() retired both members' cached profiles)


@transaction.atomic
def follow_delete(*, follower: User, followee_id: int) -> None:
    """Stop following a member; nothing to do if one does not follow them (oneself included:
    the contract's DELETE is a 204 whenever there is no follow)."""
    if followee_id == follower.pk:
        return
    _lock_pair(follower, followee_id)
    Follow.objects.filter(follower=follower, followee_id=followee_id).delete()


@transaction.atomic
def block_create(*, blocker: User, blocked_id: int) -> bool:
    """Block a member, ending follows both ways; whether this call made the block."""
    _refuse_self(blocker, blocked_id, verb="block")
    blocked = _lock_pair(blocker, blocked_id)
    _, created = Block.objects.get_or_create(blocker=blocker, blocked=blocked)
    if created:
        Follow.objects.filter(follower=blocker, followee=blocked).delete()
        Follow.objects.filter(follower=blocked, followee=blocker).delete()
        _block_changed(blocker.pk, blocked_id)
    return created


@transaction.atomic
def block_delete(*, blocker: User, blocked_id: int) -> None:
    """Lift one's block on a member (a block they made stays); nothing to do if none
    (oneself included, as for `follow_delete`)."""
    if blocked_id == blocker.pk:
        return
    _lock_pair(blocker, blocked_id)
    deleted, _ = Block.objects.filter(blocker=blocker, blocked_id=blocked_id).delete()
    if deleted:
        _block_changed(blocker.pk, blocked_id)


@transaction.atomic
def me_update(*, user: User, if_match: str | None = None, **changes) -> dict:
    """Change the caller's account (accounts' `user_update`); their profile as GET /users/me
    now shows it (its ETag's).

    With `if_match` (If-Match) their row is locked first, as the graph's writes lock it, and the
    change made only if that profile is still what they read, else a 412: of two changes
    holding one tag, the second waits here, then finds it stale.
    """
    if if_match is not None:
        User.objects.select_for_update(no_key=True).filter(pk=user.pk).exists()
        conditional.require_match(
            if_match, lambda: selectors.profile_from_database(viewer=user, user_id=user.pk)
        )
    user_update(user=user, **changes)
    return selectors.profile_from_database(viewer=user, user_id=user.pk)
