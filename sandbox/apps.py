from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The project package itself: holds the cross-app ``seed`` command."""

    name = "sandbox"
    label = "sandbox"
    verbose_name = "Sandbox"
