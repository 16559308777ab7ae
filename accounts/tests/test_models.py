"""The user model: the database itself keeps emails unique whatever their case."""

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

import socialapi.settings as project_settings
from accounts.models import User

from .factories import PASSWORD, UserFactory

# Read before the autouse fixture swaps in a fast hasher for the tests.
CONFIGURED_HASHERS = list(project_settings.PASSWORD_HASHERS)
CONFIGURED_VALIDATORS = [v["NAME"] for v in project_settings.AUTH_PASSWORD_VALIDATORS]


def test_database_rejects_an_email_that_differs_only_in_case(db):
    User.objects.create(email="a@x.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="A@X.com")

    assert list(User.objects.values_list("email", flat=True)) == ["a@x.com"]


def test_database_rejects_the_same_email_twice(db):
    User.objects.create(email="a@x.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="a@x.com")

    assert User.objects.count() == 1


def test_database_rejects_changing_an_email_into_another_users_in_other_case(db):
    User.objects.create(email="taken@x.com")
    user = User.objects.create(email="free@x.com")

    user.email = "TAKEN@x.com"
    with pytest.raises(IntegrityError), transaction.atomic():
        user.save()

    assert User.objects.get(pk=user.pk).email == "free@x.com"


def test_full_clean_reports_a_case_insensitive_duplicate(db):
    User.objects.create(email="a@x.com")

    with pytest.raises(ValidationError) as error:
        User(email="A@x.com", password="x").full_clean()

    assert "A user with this email already exists." in str(error.value)


def test_create_user_lowercases_only_the_domain_and_hashes_the_password(db):
    user = User.objects.create_user(email="Ann@EXAMPLE.COM", password=PASSWORD)

    stored = User.objects.get(pk=user.pk)
    assert stored.email == "Ann@example.com"
    assert stored.password != PASSWORD
    assert stored.check_password(PASSWORD)


def test_full_clean_lowercases_the_domain_as_admin_forms_do(db):
    user = User(email="Ann@EXAMPLE.COM", password="x")

    user.full_clean()

    assert user.email == "Ann@example.com"


def test_create_user_without_password_leaves_it_unusable(db):
    user = User.objects.create_user(email="nopass@example.com")

    assert not user.has_usable_password()


def test_create_superuser_is_staff_and_superuser(db):
    user = User.objects.create_superuser(email="root@example.com", password=PASSWORD)

    assert user.is_staff and user.is_superuser and user.is_active


def test_new_user_is_active_and_not_staff_with_creation_time(db):
    user = UserFactory()

    assert user.is_active and not user.is_staff and not user.is_superuser
    assert user.created_at is not None and user.created_at.tzinfo is not None


def test_str_is_the_email(db):
    assert str(UserFactory(email="shown@example.com")) == "shown@example.com"


def test_get_by_natural_key_ignores_case(db):
    user = UserFactory(email="Case@example.com")

    assert User.objects.get_by_natural_key("cASE@EXAMPLE.com") == user


def test_email_taken_ignores_case_and_can_exclude_a_user(db):
    user = UserFactory(email="Case@example.com")

    assert User.objects.email_taken("case@EXAMPLE.COM")
    assert not User.objects.email_taken("case@example.com", exclude_pk=user.pk)
    assert not User.objects.email_taken("other@example.com")


def test_authenticate_matches_email_case_insensitively_and_refuses_suspended_users(db):
    user = UserFactory(email="Login@example.com")
    suspended = UserFactory(email="gone@example.com", is_active=False)

    assert authenticate(username="LOGIN@example.com", password=PASSWORD) == user
    assert authenticate(username="login@example.com", password="wrong") is None
    assert authenticate(username=suspended.email, password=PASSWORD) is None


def test_users_are_listed_newest_first(db):
    first, second, third = UserFactory(), UserFactory(), UserFactory()

    assert list(User.objects.all()) == [third, second, first]


def test_argon2_is_the_configured_first_password_hasher():
    assert CONFIGURED_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_argon2_hasher_is_installed_and_works():
    encoded = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())

    assert encoded.startswith("argon2$")
    assert Argon2PasswordHasher().verify(PASSWORD, encoded)


def test_new_passwords_are_hashed_with_argon2_under_the_configured_hashers(db, settings):
    settings.PASSWORD_HASHERS = CONFIGURED_HASHERS

    user = User.objects.create_user(email="argon@example.com", password=PASSWORD)

    assert user.password.startswith("argon2$")
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_django_password_validators_are_on():
    assert CONFIGURED_VALIDATORS == [
        "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "django.contrib.auth.password_validation.MinimumLengthValidator",
        "django.contrib.auth.password_validation.CommonPasswordValidator",
        "django.contrib.auth.password_validation.NumericPasswordValidator",
    ]
