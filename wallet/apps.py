from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = "Wallet"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy

        from wallet import (
            checks,  # noqa: F401 - registers the system checks
            db_health,
            hooks,
        )

        db_health.connect()

        hooks.nav_item_register(hooks.NavItem("home", gettext_lazy("My data"), order=10))
        hooks.nav_item_register(hooks.NavItem("profile", gettext_lazy("Profile"), order=20))
        hooks.nav_item_register(hooks.NavItem("access-log", gettext_lazy("Access log"), order=60))
