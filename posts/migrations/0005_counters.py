"""Counts kept beside the rows: each post's votes, each member's posts by who may see them.

The counts of the rows already there are computed once here (a frozen copy of
posts.services.post_counts_rebuild, as it stood when this migration was written).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce


def count_existing_rows(apps, schema_editor):
    db = schema_editor.connection.alias
    Post = apps.get_model("posts", "Post")
    Vote = apps.get_model("posts", "Vote")
    PostCounts = apps.get_model("posts", "PostCounts")
    PostTotals = apps.get_model("posts", "PostTotals")
    votes = (
        Vote.objects.using(db)
        .filter(post=OuterRef("pk"))
        .order_by()
        .values("post")
        .annotate(n=Count("*"))
        .values("n")
    )
    actual = Coalesce(Subquery(votes), 0)
    Post.objects.using(db).exclude(vote_count=actual).update(vote_count=actual)
    by_owner = (
        Post.objects.using(db)
        .order_by()
        .values("owner")
        .annotate(
            public=Count("pk", filter=Q(published=True, hidden_at__isnull=True)),
            hidden=Count("pk", filter=Q(published=True, hidden_at__isnull=False)),
            drafts=Count("pk", filter=Q(published=False)),
        )
    )
    PostCounts.objects.using(db).bulk_create(
        PostCounts(owner_id=row.pop("owner"), **row) for row in by_owner.iterator()
    )
    totals = PostCounts.objects.using(db).aggregate(public=Sum("public"), hidden=Sum("hidden"))
    PostTotals.objects.using(db).create(
        id=1, public=totals["public"] or 0, hidden=totals["hidden"] or 0
    )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_user_suspend_permission'),
        ('posts', '0004_post_hidden'),
    ]

    operations = [
        migrations.CreateModel(
            name='PostCounts',
            fields=[
                ('owner', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='post_counts', serialize=False, to=settings.AUTH_USER_MODEL)),
                ('public', models.PositiveIntegerField(db_default=0, default=0)),
                ('hidden', models.PositiveIntegerField(db_default=0, default=0)),
                ('drafts', models.PositiveIntegerField(db_default=0, default=0)),
            ],
            options={
                'verbose_name_plural': 'post counts',
            },
        ),
        migrations.AddField(
            model_name='post',
            name='vote_count',
            field=models.PositiveIntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.CreateModel(
            name='PostTotals',
            fields=[
                ('id', models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ('public', models.PositiveBigIntegerField(default=0)),
                ('hidden', models.PositiveBigIntegerField(default=0)),
            ],
            options={
                'verbose_name_plural': 'post totals',
                'constraints': [models.CheckConstraint(condition=models.Q(('id', 1)), name='post_totals_one_row')],
            },
        ),
        migrations.RunPython(count_existing_rows, migrations.RunPython.noop, elidable=False),
    ]
