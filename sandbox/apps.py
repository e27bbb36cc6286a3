from django.apps import AppConfig
from django.conf import settings


class SandboxConfig(AppConfig):
    """The project package itself: holds the cross-app ``seed`` command and the fault switch."""

    name = "sandbox"
    label = "sandbox"
    verbose_name = "Sandbox"

    def ready(self) -> None:
        from sandbox.faults import state

        state.replace(settings.FAULTS)  # SANDBOX_FAULTS, until /_faults/ replaces it
