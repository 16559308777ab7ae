from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ModerationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "moderation"

    def ready(self):
        from .groups import sync_moderators_group

        # After every migrate, once Django has created the permissions the group needs.
        post_migrate.connect(sync_moderators_group, sender=self)
