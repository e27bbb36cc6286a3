from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = "Wallet"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from wallet import checks  # noqa: F401 - registers the system checks
