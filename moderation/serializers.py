"""Wire shapes of reports."""

from rest_framework import serializers

from core.serializers import FormBlanksMixin, StrictCharField

from .models import Report


class ReportSerializer(FormBlanksMixin, serializers.ModelSerializer):
    """A report as its reporter sees it; only `reason` and `category` come from the body."""

    # Strict: `"reason": 5` is a client's mistake, as a numeric post title is.
    reason = StrictCharField(max_length=1000)
    # Explicit default, so the service always receives a category.
    category = serializers.ChoiceField(
        choices=Report.Category.choices, default=Report.Category.OTHER
    )

    class Meta:
        model = Report
        fields = ["id", "post_id", "reporter_id", "category", "reason", "status", "created_at"]
        read_only_fields = ["id", "post_id", "reporter_id", "status", "created_at"]


class CommentReportSerializer(ReportSerializer):
    """A report on a comment: also names the comment (`post_id` is the post it is on)."""

    class Meta(ReportSerializer.Meta):
        fields = [
            *ReportSerializer.Meta.fields[:2],
            "comment_id",
            *ReportSerializer.Meta.fields[2:],
        ]
        read_only_fields = [*ReportSerializer.Meta.read_only_fields, "comment_id"]
