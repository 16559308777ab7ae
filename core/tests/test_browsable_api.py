"""DRF's browsable API: a browser signed in to the admin uses the API with its session."""

import re

import pytest
from django.test import Client

from accounts.tests.factories import PASSWORD, UserFactory
from posts.models import Post
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser_session():
    """A browser that logged in through the admin's login form, with CSRF checks enforced."""
    staff = UserFactory(is_staff=True)
    client = Client(enforce_csrf_checks=True)
    login_page = client.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.content.decode())
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": staff.email, "password": PASSWORD, "csrfmiddlewaretoken": token[1]},
    )
    assert response.status_code == 302
    return client, staff


def test_a_signed_in_staff_browser_reads_the_api_as_html(browser_session):
    client, _ = browser_session
    PostFactory(title="Seen in the browser")

    response = client.get("/posts/", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Seen in the browser" in response.content.decode()


def test_a_session_post_without_the_csrf_token_is_refused_and_writes_nothing(browser_session):
    client, _ = browser_session

    response = client.post(
        "/posts/", {"title": "t", "content": "c"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Post.objects.exists()


def test_a_session_post_with_the_csrf_token_creates_the_post(browser_session):
    client, staff = browser_session

    response = client.post(
        "/posts/",
        {"title": "From the browser", "content": "c"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )

    assert response.status_code == 201
    assert Post.objects.get().owner == staff


def test_anonymous_browser_is_asked_to_authenticate(client):
    response = client.get("/posts/", HTTP_ACCEPT="application/json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
