from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from connectors import base
        from connectors.youth.connector import YouthConnector
        from wallet import catalogue

        for connector in (YouthConnector(),):
            base.register(connector)
            for kind in connector.kinds:
                catalogue.register(kind)
