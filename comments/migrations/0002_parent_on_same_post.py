"""A reply's parent is a comment on the same post, as a rule of the database (PostgreSQL).

A foreign key on (post_id, parent_id) to the comments' unique (post_id, id): a reply naming a
comment of another post cannot be stored, whatever writes it. SQLite cannot add a constraint to
an existing table; there the service's check (comments.services.comment_create) is the rule.
"""

from django.db import migrations

CONSTRAINT = "comment_parent_on_same_post"


def add(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE comments_comment ADD CONSTRAINT {CONSTRAINT} "
            "FOREIGN KEY (post_id, parent_id) REFERENCES comments_comment (post_id, id) "
            "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED"
        )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE comments_comment DROP CONSTRAINT {CONSTRAINT}")


class Migration(migrations.Migration):
    dependencies = [("comments", "0001_initial")]

    operations = [migrations.RunPython(add, remove, elidable=False)]
