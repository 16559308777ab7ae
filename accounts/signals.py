"""Keep cached user reads exact: any change to a user moves the users cache version."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core import cache

from .models import User


@receiver([post_save, post_delete], sender=User, dispatch_uid="accounts.user_changed")
def user_changed(sender, **kwargs):
    # Suspension, email, staff status: all change what cached reads (auth included) may return.
    cache.invalidate("users")
