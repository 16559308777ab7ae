from django.apps import AppConfig


class PostsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "posts"

    def ready(self):
        from core import cache

        from . import signals  # noqa: F401  connects the receivers that keep counts exact

        # Read with the token's user: the shared list's, the owners', and the member's own.
        cache.register_member_versions("posts", "users", "posts-of:{id}", "votes-of:{id}")
