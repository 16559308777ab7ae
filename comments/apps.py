from django.apps import AppConfig


class CommentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "comments"

    def ready(self):
        from posts import seeding

        from . import signals  # noqa: F401  connects the receivers that keep `comments` exact
        from .seeding import CommentsStep

        seeding.register(CommentsStep())  # seed_demo --comments
