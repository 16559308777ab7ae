"""factory-boy factories for posts and votes."""

import factory

from accounts.tests.factories import UserFactory
from posts.models import Post, Vote


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post

    title = factory.Sequence(lambda n: f"Post number {n}")
    content = factory.Sequence(lambda n: f"Content of post {n}.")
    published = True
    owner = factory.SubFactory(UserFactory)


class VoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vote

    user = factory.SubFactory(UserFactory)
    post = factory.SubFactory(PostFactory)
