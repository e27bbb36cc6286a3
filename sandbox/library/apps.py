from django.apps import AppConfig


class LibraryConfig(AppConfig):
    """Simulator of the libraries' Sierra ILS REST API (v6)."""

    name = "sandbox.library"
    label = "sandbox_library"
    verbose_name = "Sandbox library (Sierra)"
