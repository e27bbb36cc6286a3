"""No index the database keeps for nothing: one whose columns lead another index repeats it."""

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db


def _indexes(table: str) -> list[tuple[str, tuple[str, ...], bool]]:
    """(name, columns, whether it only speeds look-ups up) of each index on the table."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [
        (name, tuple(info["columns"]), not (info["unique"] or info["primary_key"]))
        for name, info in constraints.items()
        if (info["index"] or info["unique"] or info["primary_key"]) and info["columns"]
    ]


@pytest.mark.parametrize("app", ["wallet", "connectors", "consent"])
def test_no_index_is_the_leading_part_of_another(app):
    redundant = []
    for model in apps.get_app_config(app).get_models():
        table = model._meta.db_table
        if table not in connection.introspection.table_names():
            continue  # in the key store database
        indexes = _indexes(table)
        for name, columns, plain in indexes:
            for other, other_columns, _ in indexes:
                # a unique or partial index means more than its columns: only plain ones repeat
                if (
                    plain
                    and other != name
                    and other_columns[: len(columns)] == columns
                    and (len(other_columns) > len(columns))
                ):
                    redundant.append(f"{table}: {name} {columns} leads {other} {other_columns}")
    assert not redundant, redundant
