"""factory-boy factories for reports."""

import factory

from accounts.tests.factories import UserFactory
from moderation.models import Report
from posts.tests.factories import PostFactory


class ReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Report

    reporter = factory.SubFactory(UserFactory)
    post = factory.SubFactory(PostFactory)
    category = Report.Category.SPAM
    reason = factory.Sequence(lambda n: f"Report reason {n}")
