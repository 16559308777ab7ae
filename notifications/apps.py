from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"

    def ready(self):
        from posts import seeding

        from . import signals  # noqa: F401  writes a notification with each action
        from .seeding import NotificationsStep

        seeding.register(NotificationsStep())  # seed_demo: what the bulk rows would have told
