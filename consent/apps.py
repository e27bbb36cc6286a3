from django.apps import AppConfig


class ConsentConfig(AppConfig):
    """Service registry, consent requests, grants, withdrawals and receipts."""

    name = "consent"
    verbose_name = "Consent"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy

        from consent.selectors import service_by_client_id
        from wallet.auth.principal import register_service_lookup
        from wallet.hooks import NavItem, nav_item_register

        register_service_lookup(service_by_client_id)
        nav_item_register(NavItem("consent-requests", gettext_lazy("Requests"), order=40))
        nav_item_register(NavItem("consents", gettext_lazy("Consents"), order=50))
