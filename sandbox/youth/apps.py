from django.apps import AppConfig


class YouthConfig(AppConfig):
    """Simulator of the city's youth-membership service (GraphQL)."""

    name = "sandbox.youth"
    label = "sandbox_youth"
    verbose_name = "Sandbox youth membership"
