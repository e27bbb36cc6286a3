from django.db import migrations


def heads_create(apps, schema_editor):
    """Every citizen gets an empty access-log chain, as new citizens do when they are created."""
    Citizen = apps.get_model("wallet", "Citizen")
    AccessLogHead = apps.get_model("wallet", "AccessLogHead")
    missing = Citizen.objects.filter(access_log_head__isnull=True).values_list(
        "pk", "data_key_generation"
    )
    AccessLogHead.objects.bulk_create(
        [
            AccessLogHead(citizen_id=pk, seq=0, mac="", generation=generation)
            for pk, generation in missing.iterator()
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [("wallet", "0002_access_log")]

    operations = [migrations.RunPython(heads_create, migrations.RunPython.noop)]
