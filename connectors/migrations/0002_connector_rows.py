from django.db import migrations

SOURCES = ("youth", "berths", "library")


def create_rows(apps, schema_editor):
    # One settings row per connector, so admins find them (and "sync now") without adding any.
    ConnectorConfig = apps.get_model("connectors", "ConnectorConfig")
    for source in SOURCES:
        ConnectorConfig.objects.get_or_create(source=source)


class Migration(migrations.Migration):
    dependencies = [("connectors", "0001_initial")]

    operations = [migrations.RunPython(create_rows, migrations.RunPython.noop)]
