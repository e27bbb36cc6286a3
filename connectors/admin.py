from django.contrib import admin

from connectors.models import SyncRun


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = (
        "started_at",
        "source",
        "mode",
        "trigger",
        "status",
        "created",
        "updated",
        "failed",
    )
    list_filter = ("source", "mode", "status")
    readonly_fields = [f.name for f in SyncRun._meta.fields]

    def has_add_permission(self, request):
        return False
