import factory

from accounts.tests.factories import UserFactory
from posts.tests.factories import PostFactory

from ..models import Comment


class CommentFactory(factory.django.DjangoModelFactory):
    """A comment, saved through Comment.save() so the post's count moves as in the API."""

    class Meta:
        model = Comment

    post = factory.SubFactory(PostFactory)
    author = factory.SubFactory(UserFactory)
    content = factory.Sequence(lambda n: f"Comment number {n}")

    @classmethod
    def reply_to(cls, parent, **kwargs):
        return cls(post=parent.post, parent=parent, **kwargs)
