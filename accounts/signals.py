"""Keep cached user reads exact: a change to a user moves that user's cache version."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core import cache

from .models import User


@receiver(post_save, sender=User, dispatch_uid="accounts.user_saved")
def user_saved(sender, instance, created, update_fields=None, **kwargs):
    # Suspension, staff status, password, email: all change what the token's user and the
    # profile may be. A new user retires a cached 404 for their id.
    names = [f"user:{instance.pk}"]
    if not created and (update_fields is None or "email" in update_fields):
        names.append("users")  # their email is embedded wherever their posts are cached
    cache.invalidate(*names)


@receiver(post_delete, sender=User, dispatch_uid="accounts.user_deleted")
def user_deleted(sender, instance, **kwargs):
    cache.invalidate(f"user:{instance.pk}", "users")
