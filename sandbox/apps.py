from django.apps import AppConfig
from django.conf import settings


class SandboxConfig(AppConfig):
    """The project package itself: holds the cross-app ``seed`` command, the fault switch and
    the upstreams' latency."""

    name = "sandbox"
    label = "sandbox"
    verbose_name = "Sandbox"

    def ready(self) -> None:
        from sandbox import faults, traffic

        faults.state.replace(settings.FAULTS)  # SANDBOX_FAULTS, until /_faults/ replaces it
        traffic.state.reset(latency_ms=settings.LATENCY_MS)  # until /_traffic/ replaces it
