"""factory-boy factories for notifications."""

import factory

from accounts.tests.factories import UserFactory
from notifications.models import Notification


class NotificationFactory(factory.django.DjangoModelFactory):
    """A follow notification from a new member (no Follow row: only the inbox is under test)."""

    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    actor = factory.SubFactory(UserFactory)
    type = Notification.Type.FOLLOW
