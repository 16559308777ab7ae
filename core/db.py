"""Query helpers shared by the apps' querysets and admin pages."""

from django.db.models import IntegerField, Subquery


class SubqueryCount(Subquery):
    """COUNT(*) of a correlated queryset as an integer annotation, 0 when nothing matches.

    Counted per returned row, so a page of N rows costs N index lookups inside one query,
    never a JOIN + GROUP BY over whole tables (and several counts never multiply each other).
    """

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()
