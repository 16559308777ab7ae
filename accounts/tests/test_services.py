"""Account services: the rules hold whatever calls them, and races end in a domain error."""

from datetime import timedelta

import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import services
from accounts.models import User
from accounts.tokens import UserRefreshToken
from core.exceptions import ConflictError, ForbiddenError

from .factories import PASSWORD, UserFactory


@pytest.fixture
def email_check_misses(monkeypatch):
    """Make the pre-check miss, as when another sign-up commits between check and insert."""
    monkeypatch.setattr(User.objects, "email_taken", lambda *args, **kwargs: False)


def test_user_create_normalizes_the_domain_and_hashes_the_password(db):
    user = services.user_create(email="Bea@EXAMPLE.org", password=PASSWORD)

    assert user.email == "Bea@example.org"
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_user_create_with_a_case_variant_of_a_taken_email_raises_conflict(db):
    UserFactory(email="bea@example.org")

    with pytest.raises(ConflictError, match="User with email: BEA@example.org already exists"):
        services.user_create(email="BEA@example.org", password=PASSWORD)

    assert User.objects.count() == 1


def test_user_create_turns_a_lost_race_at_the_unique_index_into_conflict(db, email_check_misses):
    UserFactory(email="bea@example.org")

    with pytest.raises(ConflictError):
        services.user_create(email="Bea@Example.org", password=PASSWORD)

    assert User.objects.count() == 1
    assert User.objects.filter(email="bea@example.org").exists()  # the transaction is still usable


def test_user_update_turns_a_lost_race_at_the_unique_index_into_conflict(db, email_check_misses):
    UserFactory(email="taken@example.org")
    user = UserFactory(email="mine@example.org")

    with pytest.raises(ConflictError):
        services.user_update(user=user, email="TAKEN@example.org")

    assert User.objects.get(pk=user.pk).email == "mine@example.org"


def test_user_update_without_email_changes_nothing(db, django_assert_num_queries):
    user = UserFactory(email="same@example.org")

    with django_assert_num_queries(0):
        assert services.user_update(user=user) is user

    assert User.objects.get(pk=user.pk).email == "same@example.org"


def test_user_change_password_with_wrong_current_password_raises_forbidden(db):
    user = UserFactory()
    services.tokens_issue(user=user)

    with pytest.raises(ForbiddenError, match="Current password is incorrect"):
        services.user_change_password(
            user=user, current_password="wrong", new_password="new-long-password-1"
        )

    assert User.objects.get(pk=user.pk).check_password(PASSWORD)
    assert not BlacklistedToken.objects.exists()


def test_user_change_password_revokes_all_refresh_tokens_of_that_user(db):
    user, other = UserFactory(), UserFactory()
    for _ in range(3):
        services.tokens_issue(user=user)
    services.tokens_issue(user=other)

    services.user_change_password(
        user=user, current_password=PASSWORD, new_password="new-long-password-1"
    )

    assert User.objects.get(pk=user.pk).check_password("new-long-password-1")
    assert BlacklistedToken.objects.filter(token__user=user).count() == 3
    assert not BlacklistedToken.objects.filter(token__user=other).exists()


def test_tokens_revoke_all_counts_only_tokens_not_yet_revoked(db):
    user = UserFactory()
    services.tokens_issue(user=user)
    services.tokens_issue(user=user)

    assert services.tokens_revoke_all(user=user) == 2
    assert services.tokens_revoke_all(user=user) == 0
    assert BlacklistedToken.objects.count() == 2


def test_tokens_issue_records_the_refresh_token_with_integer_user_ids(db):
    user = UserFactory()

    tokens = services.tokens_issue(user=user)

    refresh = UserRefreshToken(tokens["refresh_token"])
    assert refresh["user_id"] == user.pk
    assert refresh.access_token["user_id"] == user.pk
    assert OutstandingToken.objects.get(jti=refresh["jti"]).user == user
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 1800


def test_tokens_login_with_wrong_password_raises_invalid_credentials(db):
    user = UserFactory()

    with pytest.raises(ForbiddenError, match="^Invalid Credentials$"):
        services.tokens_login(request=None, email=user.email, password="nope")


def test_tokens_refresh_rotates_and_refuses_the_old_token(db):
    user = UserFactory()
    old = services.tokens_issue(user=user)["refresh_token"]

    new = services.tokens_refresh(refresh_token=old)

    assert new["refresh_token"] != old
    with pytest.raises(services.InvalidTokenError):
        services.tokens_refresh(refresh_token=old)


def test_tokens_refresh_refuses_a_refresh_token_that_was_never_recorded(db):
    user = UserFactory()
    services.tokens_issue(user=user)
    unrecorded = UserRefreshToken()
    unrecorded["user_id"] = user.pk

    with pytest.raises(services.InvalidTokenError):
        services.tokens_refresh(refresh_token=str(unrecorded))

    assert not BlacklistedToken.objects.exists()


def test_tokens_refresh_refuses_an_expired_token(db):
    token = UserRefreshToken.for_user(UserFactory())
    token.set_exp(lifetime=-timedelta(seconds=1))

    with pytest.raises(services.InvalidTokenError):
        services.tokens_refresh(refresh_token=str(token))


def test_tokens_logout_of_another_users_token_raises_forbidden(db):
    user, other = UserFactory(), UserFactory()
    theirs = services.tokens_issue(user=other)["refresh_token"]

    with pytest.raises(ForbiddenError):
        services.tokens_logout(user=user, refresh_token=theirs)

    assert not BlacklistedToken.objects.exists()
