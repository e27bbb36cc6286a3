from django.apps import AppConfig


class ConsentConfig(AppConfig):
    """Service registry, consent requests, grants, withdrawals and receipts."""

    name = "consent"
    verbose_name = "Consent"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
        from django.utils.translation import gettext_lazy

        from consent import checks, conf  # noqa: F401 - checks registers the system check
        from consent.export import consent_requests_export, consents_export
        from consent.processing import service_processing_activities
        from consent.selectors import service_by_client_id
        from consent.services import consents_on_erasure
        from wallet.auth.principal import register_service_lookup
        from wallet.hooks import (
            NavItem,
            before_erasure,
            export_section_register,
            nav_item_register,
            processing_activities_register,
        )

        problems = conf.problems(getattr(settings, "CONSENT", {}))
        if problems:  # a wrong setting stops start-up, not the first request that reads it
            raise ImproperlyConfigured("; ".join(problems))
        register_service_lookup(service_by_client_id)
        nav_item_register(NavItem("consent-requests", gettext_lazy("Requests"), order=40))
        nav_item_register(NavItem("consents", gettext_lazy("Consents"), order=50))
        # Their members of the citizen's data export (wallet.export).
        export_section_register("consents", consents_export, order=40)
        export_section_register("consentRequests", consent_requests_export, order=50)
        # The services in the record of processing (/processing/).
        processing_activities_register(service_processing_activities)
        # An erased citizen's consents are withdrawn, and their services told.
        before_erasure(consents_on_erasure)
