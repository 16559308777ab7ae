from django.apps import AppConfig


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "core"

    def ready(self):
        # For their side effects: the OpenAPI auth extension, the failed-login counter.
        from . import schema, throttling  # noqa: F401
