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


class BlockQuerySet(models.QuerySet):
    def hidden_ids(self, user_id: int) -> set[int]:
        """The members `user_id` blocked or was blocked by, in one query."""
        blocked = self.filter(blocker_id=user_id).values_list("blocked_id", flat=True)
        blockers = self.filter(blocked_id=user_id).values_list("blocker_id", flat=True)
        return set(blocked.order_by().union(blockers.order_by(), all=True))

    def between(self, first_id: int, second_id: int):
        """The blocks either of the two made against the other."""
        return self.filter(
            models.Q(blocker_id=first_id, blocked_id=second_id)
            | models.Q(blocker_id=second_id, blocked_id=first_id)
        )


def _blocks_with(user_id: int, field: str) -> tuple[models.Exists, models.Exists]:
    """Whether the row's member `field` was blocked by `user_id`; whether they blocked them."""
    blocks = Block.objects.order_by()
    made = blocks.filter(blocker_id=user_id, blocked_id=models.OuterRef(field))
    received = blocks.filter(blocked_id=user_id, blocker_id=models.OuterRef(field))
    return models.Exists(made), models.Exists(received)


def blocked_either_way(user_id: int, *, field: str) -> models.Q:
    """Rows whose member `field` blocked `user_id` or was blocked by them."""
    made, received = _blocks_with(user_id, field)
    return models.Q(made) | models.Q(received)


def without_blocked(queryset, user_id: int, *, field: str):
    """`queryset` less the rows whose member `field` blocked `user_id` or was blocked by them.

    Between two such members neither sees what the other wrote, nor follows, votes on or
    answers it: every app's visibility rule uses this. Two NOT EXISTS, which PostgreSQL plans
    as anti-joins with true row estimates; NOT IN (or NOT of an OR) is guessed to keep half the
    rows, and the planner then sorted the whole table for a deep page.
    """
    made, received = _blocks_with(user_id, field)
    return queryset.exclude(made).exclude(received)


class Block(models.Model):
    """One member blocking another.

    It sits with the users, below every app, because each app's visibility rule needs it
    (posts, and what is built on them); the graph app (social.services) writes it, ending
    follows both ways in the same transaction.
    """

    blocker = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="blocks_made", db_index=False
    )
    blocked = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks_received")
    created_at = models.DateTimeField(default=timezone.now)

    objects = BlockQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_once"),
            models.CheckConstraint(
                condition=~models.Q(blocker=models.F("blocked")), name="block_not_self"
            ),
        ]
        indexes = [
            # A member's blocks, newest first (GET /users/me/blocks); also their lookups.
            models.Index(fields=["blocker", "-created_at", "-id"], name="block_list_idx"),
        ]

    def __str__(self):
        return f"{self.blocker_id} blocks {self.blocked_id}"
