"""The user of socialapi: an email address is the login."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class UserManager(BaseUserManager):
    """Creates users by email and finds them whatever the case of the address."""

    use_in_migrations = True

    def get_by_natural_key(self, email):
        # Login is case-insensitive; the lookup matches the Lower(email) unique index.
        return self.get_by_email(email)

    def get_by_email(self, email: str):
        return self.alias(email_lower=Lower("email")).get(email_lower=email.lower())

    def email_taken(self, email: str, *, exclude_pk=None) -> bool:
        matches = self.alias(email_lower=Lower("email")).filter(email_lower=email.lower())
        if exclude_pk is not None:
            matches = matches.exclude(pk=exclude_pk)
        return matches.exists()

    def create_user(self, email, password=None, **extra_fields):
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A member of the network. Inactive means suspended: no login, no working token."""

    # unique=True satisfies the auth checks; the Lower(email) constraint below is the real rule.
    email = models.EmailField(max_length=254, unique=True)
    is_active = models.BooleanField(default=True, help_text="Unticked means suspended.")
    is_staff = models.BooleanField(default=False, help_text="May log in to the admin.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("suspend_user", "Can suspend and reinstate users")]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_ci_unique",
                violation_error_message="A user with this email already exists.",
            ),
        ]

    def __str__(self):
        return self.email

    def clean(self):
        # Forms (the admin's among them) call this; the manager normalizes the API's writes.
        super().clean()
        self.email = type(self).objects.normalize_email(self.email)
