from django.apps import AppConfig


class ConsentConfig(AppConfig):
    """Service registry, consent requests, grants, withdrawals and receipts."""

    name = "consent"
    verbose_name = "Consent"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from consent.selectors import service_by_client_id
        from wallet.auth.principal import register_service_lookup

        register_service_lookup(service_by_client_id)
