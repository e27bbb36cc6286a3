from django.apps import AppConfig


class BerthsConfig(AppConfig):
    """Simulator of the city's berth-reservations service (GraphQL)."""

    name = "sandbox.berths"
    label = "sandbox_berths"
    verbose_name = "Sandbox boat berths"
