"""What the API answers: lines, attempts with their target legs, and a line's results."""

from __future__ import annotations

from rest_framework import serializers

from ..models import CallAttempt, CallLeg, CampaignLine
from ..stats import REFUSALS


class LineSerializer(serializers.ModelSerializer):
    class Meta:
        model = CampaignLine
        fields = ["id", "phone_number", "name", "is_active", "created_at", "updated_at"]


class LegSerializer(serializers.ModelSerializer):
    class Meta:
        model = CallLeg
        fields = ["position", "target", "target_name", "target_number", "status", "duration", "started_at", "ended_at"]


class AttemptSerializer(serializers.ModelSerializer):
    legs = LegSerializer(many=True, read_only=True)

    class Meta:
        model = CallAttempt
        fields = [
            "id",
            "line",
            "phone",
            "name",
            "email",
            "variables",
            "outcome",
            "status",
            "created_at",
            "updated_at",
            "answered_at",
            "ended_at",
            "duration",
            "connected_legs",
            "is_test",
            "legs",
        ]


class DaySerializer(serializers.Serializer):
    date = serializers.DateField()
    requests = serializers.IntegerField()
    placed = serializers.IntegerField()
    refused = serializers.IntegerField()


class TargetRowSerializer(serializers.Serializer):
    target_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    number = serializers.CharField()
    legs = serializers.IntegerField(help_text="Calls to the target.")
    connected = serializers.IntegerField()
    total_duration = serializers.IntegerField(help_text="Seconds connected, in all.")
    average_duration = serializers.FloatField(allow_null=True)


class RefusedSerializer(serializers.Serializer):
    def get_fields(self):
        return {code.value: serializers.IntegerField() for code in REFUSALS}


class ResultsSerializer(serializers.Serializer):
    """A line's results over a date range, as on its results page in the admin."""

    line = serializers.IntegerField(source="line.pk")
    start = serializers.DateField()
    end = serializers.DateField()
    requests = serializers.IntegerField()
    placed = serializers.IntegerField()
    answered = serializers.IntegerField()
    connected = serializers.IntegerField(help_text="Calls connected to at least one target.")
    call_seconds = serializers.IntegerField()
    refused = RefusedSerializer()
    days = DaySerializer(many=True)
    targets = TargetRowSerializer(many=True)
