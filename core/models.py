"""Rows every app's requests share: the kept responses of `Idempotency-Key` requests."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


def _cutoff():
    return timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)


class IdempotencyKeyQuerySet(models.QuerySet):
    def expired(self):
        """Records past IDEMPOTENCY_KEY_HOURS: never replayed, deleted by the purge command."""
        return self.filter(created_at__lte=_cutoff())

    def fresh(self):
        return self.filter(created_at__gt=_cutoff())


class IdempotencyKey(models.Model):
    """The first response to a request with an `Idempotency-Key`, kept to replay it.

    Written in the transaction of the request's own writes (core.idempotency): both or neither.
    """

    scope = models.CharField(max_length=100, help_text='Whose key: "user:<id>" or "addr:<ip>".')
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status = models.PositiveSmallIntegerField()
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = IdempotencyKeyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_per_scope")
        ]

    def __str__(self):
        return f"{self.scope} {self.key}"

    @property
    def expired(self) -> bool:
        return self.created_at <= _cutoff()
