"""Link headers name the neighbouring pages exactly as DRF's replace_query_param would."""

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.utils.urls import replace_query_param

from core.pagination import SkipLimitPagination


@pytest.mark.parametrize(
    "query",
    [
        "",
        "limit=5",
        "skip=10&limit=5",
        "search=caf%C3%A9+au+lait&limit=5&skip=5",
        "b=2&a=1&a=3&empty=&limit=5",
        "search=100%25+sure&limit=5&skip=20",
    ],
)
def test_page_urls_are_what_drf_would_build(query):
    request = Request(APIRequestFactory().get(f"/posts/?{query}"))
    paginator = SkipLimitPagination()
    paginator.read_params(request)
    url = request.build_absolute_uri()

    for skip in (0, 5, 25):
        expected = replace_query_param(url, "limit", paginator.limit)
        expected = replace_query_param(expected, "skip", skip)
        assert paginator._page_url(skip) == expected
