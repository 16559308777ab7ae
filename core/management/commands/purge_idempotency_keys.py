"""Delete the responses kept for `Idempotency-Key`s past IDEMPOTENCY_KEY_HOURS (run it hourly)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from core.models import IdempotencyKey


class Command(BaseCommand):
    help = (
        "Delete kept Idempotency-Key responses older than IDEMPOTENCY_KEY_HOURS. They are never "
        "replayed anyway; this keeps the table small."
    )

    def handle(self, *args, **options):
        deleted, _ = IdempotencyKey.objects.expired().delete()
        hours = settings.IDEMPOTENCY_KEY_HOURS
        self.stdout.write(f"Deleted {deleted} idempotency keys older than {hours} hours.")
