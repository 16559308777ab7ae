"""Request parsers: DRF's, with every malformed body a 422 rather than a crash."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser that also refuses nesting too deep for Python's decoder.

    `[[[[...` a hundred thousand levels deep raises RecursionError, which DRF does not
    catch: the client would get a 500 for a malformed body.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nesting too deep") from None
