"""factory-boy factories for the graph."""

import factory

from accounts.tests.factories import UserFactory
from social.models import Follow


class FollowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Follow

    follower = factory.SubFactory(UserFactory)
    followee = factory.SubFactory(UserFactory)
