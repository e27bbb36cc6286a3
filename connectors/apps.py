from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from connectors import base
        from connectors.berths.connector import BerthsConnector
        from connectors.library.connector import LibraryConnector
        from connectors.models import LibraryLink
        from connectors.youth.connector import YouthConnector
        from wallet import catalogue, sealed

        for connector in (YouthConnector(), BerthsConnector(), LibraryConnector()):
            base.register(connector)
            for kind in connector.kinds:
                catalogue.register(kind)
        sealed.register(
            sealed.SealedColumn(LibraryLink, "patron_id_sealed", row_id=lambda row: row.citizen_id)
        )
