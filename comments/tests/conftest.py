import pytest

from accounts.tests.factories import UserFactory
from core import cache
from posts.tests.factories import PostFactory

from .helpers import client_of


@pytest.fixture(params=["no cache", "local memory"])
def api_cache(request, settings):
    """Run a test against the database alone and through the shared read cache (Django's
    local-memory cache here): what a member reads must be the same either way. A module opts
    in with `pytestmark = [..., pytest.mark.usefixtures("api_cache")]`."""
    settings.API_CACHE = request.param != "no cache"
    cache.memory.clear()
    yield settings.API_CACHE
    cache.memory.clear()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def staff_client(staff_user):
    return client_of(staff_user)


@pytest.fixture
def post(other_user):
    """A published post of `other_user`, on which `user` (auth_client) comments."""
    return PostFactory(owner=other_user)
