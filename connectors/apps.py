from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from connectors import base
        from connectors.berths.connector import BerthsConnector
        from connectors.hooks import sync_on_sign_in
        from connectors.library.connector import LibraryConnector
        from connectors.pages import sources_home_section
        from connectors.youth.connector import YouthConnector
        from wallet import catalogue, hooks

        for connector in (YouthConnector(), BerthsConnector(), LibraryConnector()):
            base.register(connector)
            for kind in connector.kinds:
                catalogue.register(kind)
        # The core imports no app: it calls these through its hooks.
        hooks.on_citizen_signed_in(sync_on_sign_in)
        hooks.home_section_register(sources_home_section)
        # The staff's sync dashboard in the pages' navigation.
        from django.utils.translation import gettext_lazy

        hooks.nav_item_register(
            hooks.NavItem("sync-dashboard", gettext_lazy("Syncs"), order=90, staff_only=True)
        )
