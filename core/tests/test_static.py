"""Static files: whitenoise serves `collectstatic`'s compressed, hashed files; pages that link
static files render whether or not `collectstatic` has run."""

import re

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def stylesheet_of_admin_login(client: APIClient) -> str:
    response = client.get("/admin/login/")
    assert response.status_code == 200
    return re.search(r'href="(/static/admin/css/base[^"]*\.css)"', response.text)[1]


def test_pages_that_link_static_files_render_before_collectstatic(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "never-collected"

    assert stylesheet_of_admin_login(APIClient()) == "/static/admin/css/base.css"


def test_whitenoise_serves_collected_files_hashed_compressed_and_cached_forever(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    call_command("collectstatic", interactive=False, verbosity=0)
    client = APIClient()  # whitenoise indexes STATIC_ROOT when the middleware starts

    href = stylesheet_of_admin_login(client)
    plain = client.get(href)
    gzipped = client.get(href, HTTP_ACCEPT_ENCODING="gzip")

    assert re.fullmatch(r"/static/admin/css/base\.[0-9a-f]{12}\.css", href)
    assert plain.status_code == 200
    assert plain["Content-Type"].startswith("text/css")
    assert plain["Cache-Control"] == "max-age=315360000, public, immutable"
    assert b"".join(plain.streaming_content).startswith(b"/*")
    assert gzipped.status_code == 200
    assert gzipped["Content-Encoding"] == "gzip"
    assert client.get("/static/admin/css/no-such-file.css").status_code == 404
