"""A psycopg cursor that describes each statement's result once per connection (PostgreSQL only)."""

import psycopg

# Distinct statement texts remembered per connection; the application runs a few hundred at most, but a text with
# literals inlined would otherwise grow the memory of a long-lived connection without end.
MAX_DESCRIBED = 512


class DescribedOnceCursor(psycopg.Cursor):
    """SQLAlchemy reads ``cursor.description`` after every statement, and psycopg builds it anew in Python each
    time, a ``Column`` per column: 8 % of an API booking's instructions for its 110 columns. One statement's text
    on one connection yields the same columns whenever their types are the same (migrations run before the
    application starts), so the description is kept per connection, keyed by that text and those types; what is
    not an ``execute`` of a text is described by psycopg as before.
    """

    _statement: str | None = None

    def execute(self, query, params=None, **kwargs):
        self._statement = query if isinstance(query, str) else None
        return super().execute(query, params, **kwargs)

    def executemany(self, query, params_seq, **kwargs):
        self._statement = None
        return super().executemany(query, params_seq, **kwargs)

    @property
    def description(self) -> list[psycopg.Column] | None:
        result = self.pgresult
        if self._statement is None or result is None or not result.nfields:
            return super().description
        known = self.connection.__dict__.setdefault("_described", {})
        # The columns' types too: a parameter without a cast (``SELECT %s``) is typed by the value bound to it.
        key = (self._statement, *map(result.ftype, range(result.nfields)))
        columns = known.get(key)
        if columns is None:
            if len(known) >= MAX_DESCRIBED:
                known.clear()
            columns = known[key] = super().description
        return columns
