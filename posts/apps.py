from django.apps import AppConfig


class PostsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "posts"

    def ready(self):
        from core import cache

        from . import signals  # noqa: F401  connects the receivers that keep counts exact

        # Read with the token's user (core.cache.Reader.plan): what lists and posts depend on.
        cache.register_member_reads(
            versions=["posts", "users", "posts-of:{id}", "votes-of:{id}", "blocks-of:{id}"],
            entries={
                "posts:own:{id}": ("posts-of:{id}",),
                "likes:{id}": ("votes-of:{id}",),
                "blocks:{id}": ("blocks-of:{id}",),
            },
        )
