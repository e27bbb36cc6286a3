"""Fast replacement of generated rows (``seed --citizens`` makes up to a few hundred thousand).

Django's ``QuerySet.delete()`` loads every row to run cascades and signals, and
``bulk_create()`` compiles every value through the ORM: together over a minute for 100,000
citizens. The generated rows have no signals and nothing points at them once their children
are gone, so the seeds delete children first with one plain statement per table, and insert
with one ``executemany`` per batch (values still prepared by each field, as ``save()`` would).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, models


def delete_generated(model: type[models.Model], *, parent: str | None = None) -> None:
    """``DELETE`` the rows with ``generated`` set, or (with ``parent``, the name of a foreign
    key) the rows whose parent has it set."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    if parent is None:
        sql = f"DELETE FROM {table} WHERE {quote('generated')}"  # noqa: S608 - names only
    else:
        field = model._meta.get_field(parent)
        assert isinstance(field, models.ForeignKey)
        parent_model = field.related_model
        assert not isinstance(parent_model, str)
        parent_table = quote(parent_model._meta.db_table)
        sql = (
            f"DELETE FROM {table} WHERE {quote(field.column)} IN "  # noqa: S608 - names only
            f"(SELECT {quote('id')} FROM {parent_table} WHERE {quote('generated')})"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql)


def bulk_insert(model: type[models.Model], objs: Iterable[models.Model]) -> None:
    """INSERT unsaved instances with one ``executemany``: like ``bulk_create`` without its
    per-value compiler work, which is most of the time of a 100,000-citizen seed."""
    fields = list(model._meta.concrete_fields)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608 - names only
    rows = [
        tuple(field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields)
        for obj in objs
    ]
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
