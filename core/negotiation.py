"""Content negotiation: DRF's, with a shortcut for the Accept headers API clients send."""

from rest_framework.negotiation import DefaultContentNegotiation


class JSONFirstNegotiation(DefaultContentNegotiation):
    """DRF's choice of renderer, found without parsing for no Accept header, `*/*` and
    `application/json`: what API clients send on nearly every request.

    Parsing and ranking the header costs about a tenth of a cached read here; for these three
    values DRF's answer is known (a test checks it against DRF's own). Anything else, a
    `?format=` or a browser's `text/html` for the browsable API, goes through DRF unchanged.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if renderers and not format_suffix and not self._format_asked(request):
            if accept == "*/*":
                return renderers[0], renderers[0].media_type
            if accept == "application/json":
                for renderer in renderers:
                    if renderer.media_type == accept:
                        return renderer, accept
        return super().select_renderer(request, renderers, format_suffix)

    def _format_asked(self, request) -> bool:
        name = self.settings.URL_FORMAT_OVERRIDE
        return bool(name) and name in request.query_params
