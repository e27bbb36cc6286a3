from django.apps import AppConfig


class ConsentConfig(AppConfig):
    """Service registry, consent requests, grants and receipts (built in the consent issue)."""

    name = "consent"
    default_auto_field = "django.db.models.BigAutoField"
