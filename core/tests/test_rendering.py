"""The hot paths' renderers give exactly what the DRF fields and serializers they replace give."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.test import override_settings
from django.utils import timezone as django_timezone
from rest_framework import serializers

from accounts.serializers import USER_FIELDS, UserSerializer, user_out, user_row_out
from accounts.tests.factories import UserFactory
from core.rendering import iso_datetime

MOMENTS = [
    datetime(2026, 12, 2, 12, 30, 45, 123456, tzinfo=UTC),
    datetime(2026, 12, 2, 12, 30, 45, tzinfo=UTC),  # no microseconds to print
    datetime(2026, 6, 1, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=-5))),
    datetime(1999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/Sao_Paulo"])
@pytest.mark.parametrize("moment", MOMENTS)
def test_iso_datetime_is_what_drf_renders(zone, moment):
    with override_settings(TIME_ZONE=zone), django_timezone.override(zone):
        assert iso_datetime(moment) == serializers.DateTimeField().to_representation(moment)


@pytest.mark.django_db
def test_user_out_is_what_the_user_serializer_renders():
    for user in [UserFactory(), UserFactory(email="Ann.Ö@example.com")]:
        assert user_out(user) == UserSerializer(user).data
        assert list(user_out(user)) == ["id", "email", "created_at"]


@pytest.mark.django_db
def test_user_row_out_is_user_out_of_the_same_user():
    user = UserFactory()
    row = type(user).objects.filter(pk=user.pk).values(*USER_FIELDS).get()
    assert user_row_out(row) == user_out(user)
