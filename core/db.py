"""Query helpers shared by the apps' querysets and admin pages."""

from django.db import connections
from django.db.models import BigIntegerField, Func, IntegerField, Subquery


class SubqueryCount(Subquery):
    """COUNT(*) of a correlated queryset as an integer annotation, 0 when nothing matches.

    Counted per returned row, so a page of N rows costs N index lookups inside one query,
    never a JOIN + GROUP BY over whole tables (and several counts never multiply each other).
    """

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()


class EpochMicroseconds(Func):
    """A datetime column as whole microseconds since 1970 (UTC), computed by the database.

    Comparing rows from two queries (a merge) needs their sort keys; reading a thousand
    timestamps as Python datetimes costs 15 ms here, integers a tenth of that.
    """

    output_field = BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        # EXTRACT gives an exact numeric on PostgreSQL 14 and later.
        template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Stored as UTC text, "YYYY-MM-DD HH:MM:SS" and ".ffffff" unless the microseconds are 0.
        # unixepoch() (SQLite 3.38) of the whole seconds: given the fraction too, it rounds.
        template = (
            "(unixepoch(substr(%(expressions)s, 1, 19)) * 1000000"
            " + CAST('0' || substr(%(expressions)s, 21, 6) AS INTEGER))"
        )
        return self.as_sql(compiler, connection, template=template, **extra)


def plain_rows(queryset) -> list[tuple]:
    """The rows of a `values_list()` of integers and booleans, as the database driver gives
    them: Django's per-row conversion costs more than the query for a thousand rows. Not for
    other types (a datetime stays a string on SQLite)."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
