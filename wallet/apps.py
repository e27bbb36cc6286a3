from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = "Wallet"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from wallet import (
            checks,  # noqa: F401 - registers the system checks
            sealed,
        )
        from wallet.models import AccessLogEntry, DataRecord, Profile

        sealed.register(sealed.SealedColumn(Profile, "payload", row_id=lambda row: row.citizen_id))
        sealed.register(sealed.SealedColumn(DataRecord, "payload"))
        sealed.register(sealed.SealedColumn(AccessLogEntry, "details", row_id=lambda row: row.seq))
