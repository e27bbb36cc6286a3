from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.test.signals import setting_changed
        from django.utils.translation import gettext_lazy

        from connectors import base
        from connectors.checks import connector_settings_validate
        from connectors.export import records_export, sources_export
        from connectors.hooks import sync_on_sign_in
        from connectors.pages import sources_home_section
        from connectors.processing import source_processing_activities
        from wallet import hooks

        # The sources are the ones settings.CONNECTORS names: their connectors, their kinds in
        # the field catalogue. A wrong entry stops start-up here (connectors.checks).
        connector_settings_validate()
        for connector in base.connectors():
            if type(connector).home_section is not base.Connector.home_section:
                hooks.home_section_register(connector.home_section)
        setting_changed.connect(base.registry_reset, dispatch_uid="connectors.registry_reset")
        # The core imports no app: it calls these through its hooks.
        hooks.on_citizen_signed_in(sync_on_sign_in)
        hooks.home_section_register(sources_home_section)
        # Their members of the citizen's data export (wallet.export).
        hooks.export_section_register("sources", sources_export, order=20)
        hooks.export_section_register("records", records_export, order=30)
        # The sources in the record of processing (/processing/).
        hooks.processing_activities_register(source_processing_activities)
        # The staff's sync dashboard in the pages' navigation.
        hooks.nav_item_register(
            hooks.NavItem("sync-dashboard", gettext_lazy("Syncs"), order=90, staff_only=True)
        )
