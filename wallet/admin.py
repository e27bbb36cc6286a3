from django.contrib import admin

from wallet.models import Citizen, DataRecord, Erasure


@admin.register(Citizen)
class CitizenAdmin(admin.ModelAdmin):
    # Only identifiers and flags: personal values stay sealed and are never shown here.
    list_display = ("id", "issuer", "is_staff", "is_active", "date_joined", "last_login")
    list_filter = ("is_staff", "is_active")
    search_fields = ("=subject", "=id")
    fields = ("id", "issuer", "subject", "is_active", "is_staff", "date_joined", "last_login")
    readonly_fields = ("id", "issuer", "subject", "date_joined", "last_login")


@admin.register(DataRecord)
class DataRecordAdmin(admin.ModelAdmin):
    list_display = ("id", "citizen_id", "source", "kind", "state", "fetched_at")
    list_filter = ("source", "kind", "state")
    fields = (
        "id",
        "citizen",
        "source",
        "kind",
        "state",
        "fetched_at",
        "upstream_modified_at",
        "ended_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False


@admin.register(Erasure)
class ErasureAdmin(admin.ModelAdmin):
    """Erasures under way and recent ones (docs/erasure.md): one whose `failure` is set is
    finished by `manage.py erasures_complete`. No personal data."""

    list_display = ("citizen_id", "state", "erased_at", "completed_at", "failure")
    list_filter = ("state",)
    fields = list_display
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
