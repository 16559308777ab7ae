"""A trigram index for title search, on PostgreSQL only.

`search` is `UPPER(title) LIKE UPPER('%term%')`, which no B-tree can serve: without this index
every search reads the whole table (about 150 ms for a rare term on 120k posts; 0.1 ms with it).
A model `GinIndex` would break the SQLite databases used in development, so the index is made
here, and only where the database can make it: if the `pg_trgm` extension cannot be created
(a role without the privilege), search still works, only without the index.
"""

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)


def create_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    try:
        # A savepoint: a refused extension must not abort the rest of the migration.
        with transaction.atomic(using=connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        logger.warning("No trigram index for post search: %s", error)
        return
    # The expression is the one Django writes for `title__icontains`, so the planner can use it.
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS post_title_trgm_idx ON posts_post "
        "USING gin (UPPER(title::text) gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS post_title_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0002_post_newest_covering_idx"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
