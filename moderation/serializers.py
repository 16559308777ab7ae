"""Wire shapes of reports."""

from rest_framework import serializers

from .models import Report


class ReportSerializer(serializers.ModelSerializer):
    """A report as its reporter sees it; only `reason` and `category` come from the body."""

    reason = serializers.CharField(max_length=1000)

    class Meta:
        model = Report
        fields = ["id", "post_id", "reporter_id", "category", "reason", "status", "created_at"]
        read_only_fields = ["id", "post_id", "reporter_id", "status", "created_at"]
