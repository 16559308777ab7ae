"""Query helpers shared by the apps' querysets and admin pages."""

from django.db import connections
from django.db.models import BigIntegerField, F, Func, IntegerField, QuerySet, Subquery


class CounterQuerySet(QuerySet):
    """Rows of counts kept beside the rows they count, moved with F() in the write's transaction."""

    def move(self, row: dict, **deltas: int) -> None:
        """Add `deltas` ({"followers": 1, ...}) to the counts of `row` ({"user_id": 7}).

        The row is made on its first move; concurrent first moves meet at its primary key.
        """
        changes = {name: F(name) + delta for name, delta in deltas.items() if delta}
        if changes and not self.filter(**row).update(**changes):
            self.get_or_create(**row)
            self.filter(**row).update(**changes)


class SubqueryCount(Subquery):
    """COUNT(*) of a correlated queryset as an integer annotation, 0 when nothing matches.

    Counted per returned row, so a page of N rows costs N index lookups inside one query,
    never a JOIN + GROUP BY over whole tables (and several counts never multiply each other).
    """

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()


class SubquerySum(Subquery):
    """SUM of one column of a correlated queryset as an integer annotation, 0 when none match."""

    template = '(SELECT COALESCE(SUM(_sum."%(column)s"), 0) FROM (%(subquery)s) _sum)'
    output_field = BigIntegerField()

    def __init__(self, queryset, column: str):
        super().__init__(queryset.values(column), column=column)


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


class CompiledValues:
    """A `values()` query Django compiles once per process and shape, then runs with new values.

    Compiling a query costs about 2 ms of CPU here, five times what sending and reading it
    costs, on paths that run one on every cache miss. `build(*args, **inline)` returns the
    queryset; each arg is an int or a list of ints (a list's length is part of the shape), sent
    as a parameter; `inline` values (a slice's bounds, a flag) are written into the SQL, so each
    of their combinations is a shape of its own. On PostgreSQL, whose driver returns each column
    as its Python type, the compiled SQL is reused; elsewhere the queryset runs as usual. Rows
    are dicts, or tuples for a `values_list()` (`tuples`).
    """

    _SENTINEL = -(10**15)  # no id is ever this: marks where each value goes among the params

    def __init__(self, build, *, tuples: bool = False):
        self.build = build
        self.tuples = tuples
        self.compiled = {}  # (alias, shape) -> (sql, [(param index, arg, item)], params)

    def __call__(self, *args, using="default", **inline) -> list:
        connection = connections[using]
        if connection.vendor != "postgresql":
            return list(self.build(*args, **inline).using(using))
        if any(isinstance(arg, list) and not arg for arg in args):
            return []  # `IN ()` matches nothing
        shape = (
            using,
            tuple(len(arg) if isinstance(arg, list) else None for arg in args),
            tuple(sorted(inline.items())),
        )
        if shape not in self.compiled:
            self.compiled[shape] = self._compile(args, inline, using)
        sql, slots, params = self.compiled[shape]
        params = list(params)
        for index, (arg, item) in slots.items():
            params[index] = args[arg] if item is None else args[arg][item]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if self.tuples:
                return cursor.fetchall()
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _compile(self, args, inline, using):
        """The SQL, its params, and {param index: (arg, item)} saying where each value goes."""
        sentinels = {}  # a value no id is ever -> (arg, item of a list arg, or None)

        def mark(arg, item=None):
            value = self._SENTINEL - len(sentinels)
            sentinels[value] = (arg, item)
            return value

        marks = [
            [mark(index, item) for item in range(len(arg))]
            if isinstance(arg, list)
            else mark(index)
            for index, arg in enumerate(args)
        ]
        sql, params = self.build(*marks, **inline).using(using).query.sql_with_params()
        slots = {
            index: sentinels[param] for index, param in enumerate(params) if param in sentinels
        }
        if set(slots.values()) != set(sentinels.values()):
            raise ValueError("each value must be a parameter of the compiled query")
        return sql, slots, params


def exists_key_share_locked(rows) -> bool:
    """Whether `rows` has a row, locked FOR KEY SHARE until commit on PostgreSQL: no one can
    delete it meanwhile, while updates of it (a post's counts) and other such locks go on.
    (On SQLite writers take the whole database in turn, transaction_mode IMMEDIATE: a check
    inside the transaction is enough.)"""
    rows = rows.order_by().values("pk")[:1]
    connection = connections[rows.db]
    if connection.vendor != "postgresql":
        return rows.exists()
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR KEY SHARE", params)
        return cursor.fetchone() is not None
