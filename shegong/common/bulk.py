"""Import-scale writes: history rows for many objects with one executemany per batch.

django-simple-history's bulk_history_create builds a model instance per row and lets the ORM prepare
every value, which dominates a 100,000-row import. These rows are plain tuples instead; the values
are converted once per field type, exactly as the ORM would store them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import SimpleNamespace
from typing import Any

from django.db import connections, models, router
from django.utils import timezone

BATCH = 5000


def _write(connection: Any, table: str, columns: list[str], rows: Iterable[Sequence[Any]]) -> None:
    """INSERT the rows: executemany on SQLite (fast in-process); COPY on PostgreSQL (psycopg 3), else
    multi-row VALUES statements."""
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) VALUES "
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            batch: list[Sequence[Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= BATCH:
                    cursor.executemany(head + one, batch)
                    batch = []
            if batch:
                cursor.executemany(head + one, batch)
            return
        raw = getattr(cursor, "cursor", None)
        if connection.vendor == "postgresql" and hasattr(raw, "copy"):
            names = ", ".join(quote(c) for c in columns)
            with raw.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
                for row in rows:
                    copy.write_row(row)
            return
        per_statement = max(1, min(1000, 60000 // len(columns)))
        params: list[Any] = []
        count = 0
        for row in rows:
            params.extend(row)
            count += 1
            if count >= per_statement:
                cursor.execute(head + ", ".join([one] * count), params)
                params, count = [], 0
        if count:
            cursor.execute(head + ", ".join([one] * count), params)


def _converter(field: models.Field, connection: Any) -> Callable[[Any], Any] | None:
    if isinstance(field, models.DateTimeField):
        adapt = connection.ops.adapt_datetimefield_value
        last: list[Any] = [None, None]

        def datetime_value(value: Any) -> Any:  # rows of one import share their timestamps
            if value is not last[0]:
                last[0], last[1] = value, adapt(value)
            return last[1]

        return datetime_value
    if isinstance(field, models.DateField):
        return connection.ops.adapt_datefield_value
    if isinstance(field, models.JSONField):
        return lambda v: field.get_db_prep_save(v, connection)
    return None


class NewRow(SimpleNamespace):
    """A row to insert: the model's field defaults as attributes, without the cost of a model instance."""

    pk: Any = None

    def set_pk(self, pk: Any) -> None:
        self.pk = self.id = pk


def new_rows_factory(model: type[models.Model]) -> Callable[..., NewRow]:
    defaults = {f.attname: (f.get_default() if f.has_default() or not f.null else None)
                for f in model._meta.concrete_fields if not f.primary_key}
    pk_name = model._meta.pk.attname if model._meta.pk else "id"

    def make(**attrs: Any) -> NewRow:
        row = NewRow(**defaults)
        row.__dict__[pk_name] = None
        row.__dict__.update(attrs)
        return row

    return make


def _values(objs: Sequence[models.Model], attnames: list[str], converters: list[Callable[[Any], Any] | None],
            extra: tuple[Any, ...] = ()) -> Iterator[list[Any]]:
    for obj in objs:
        values = [getattr(obj, a) for a in attnames]
        for i, conv in enumerate(converters):
            if conv is not None and values[i] is not None:
                values[i] = conv(values[i])
        values.extend(extra)
        yield values


def history_insert(model: type[models.Model], objs: Sequence[models.Model], *, history_type: str = "+",
                   actor: Any = None, reason: str = "", when: dt.datetime | None = None) -> int:
    """Write one history record per object (they must have primary keys), as bulk_history_create does."""
    if not objs:
        return 0
    history_model = model.history.model  # type: ignore[attr-defined]
    connection = connections[router.db_for_write(history_model)]
    tracked = list(history_model.tracked_fields)
    fields = [history_model._meta.get_field(f.name) for f in tracked]
    columns = [str(f.column) for f in fields] + ["history_date", "history_change_reason", "history_type",
                                                  "history_user_id"]
    converters = [_converter(f, connection) for f in fields]
    attnames = [f.attname for f in tracked]
    when = when or timezone.now()
    fixed = (connection.ops.adapt_datetimefield_value(when), reason or None, history_type,
             getattr(actor, "pk", None))

    _write(connection, history_model._meta.db_table, columns, _values(objs, attnames, converters, fixed))
    return len(objs)


def fast_insert(model: type[models.Model], objs: Sequence[models.Model], *, now: dt.datetime | None = None) -> None:
    """INSERT new objects (primary keys from the database) with executemany, without the ORM's
    per-value preparation. auto_now / auto_now_add fields get `now`. The caller reads the keys back
    by a natural key (the inserted objects' pk stays None)."""
    if not objs:
        return
    connection = connections[router.db_for_write(model)]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = now or timezone.now()
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            for obj in objs:
                setattr(obj, f.attname, now)
    converters = [_converter(f, connection) for f in fields]
    attnames = [f.attname for f in fields]

    _write(connection, model._meta.db_table, [str(f.column) for f in fields], _values(objs, attnames, converters))
