from django.apps import AppConfig


class SocialConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "social"
    verbose_name = "Social graph"

    def ready(self):
        from posts import seeding

        from . import signals  # noqa: F401  connects the receivers that keep the counts exact
        from .seeding import FollowsStep

        seeding.register(FollowsStep())  # seed_demo --follows
