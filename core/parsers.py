"""Request parsers: DRF's, with every malformed body a 422 rather than a crash or a guess."""

import codecs
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import QueryDict
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework import parsers
from rest_framework.exceptions import ParseError

NOT_UTF8 = "{kind} parse error - the body is not valid UTF-8"


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


class FormParser(parsers.FormParser):
    """DRF's urlencoded form parser, refusing bytes that are not UTF-8.

    Django reads a body that is not UTF-8 as Latin-1 and `%FF` escapes as U+FFFD, so a bad
    byte would be stored as some other text without a word to the client.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read()
        # QueryDict first: it enforces DATA_UPLOAD_MAX_NUMBER_FIELDS before we split anything.
        data = QueryDict(raw, encoding="utf-8")
        try:
            parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            raise ParseError(NOT_UTF8.format(kind="Form")) from None
        return data


def _strict_utf8(name):
    """A UTF-8 codec that ignores `errors="replace"`: Django's multipart parser asks for it."""
    if name != "socialapi_strict_utf_8":
        return None
    return codecs.CodecInfo(
        name=name,
        encode=codecs.utf_8_encode,
        decode=lambda data, errors="strict": codecs.utf_8_decode(data, "strict", True),
    )


codecs.register(_strict_utf8)


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, refusing field names and values that are not UTF-8.

    Django decodes them with `errors="replace"` whatever the encoding asked, so the bad bytes
    would silently become U+FFFD; a codec that cannot replace makes them an error instead.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]
        meta = {**request.META, "CONTENT_TYPE": media_type}
        upload_handlers = request.upload_handlers
        try:
            parser = DjangoMultiPartParser(
                meta, stream, upload_handlers, encoding="socialapi_strict_utf_8"
            )
            data, files = parser.parse()
        except MultiPartParserError as error:
            raise ParseError(f"Multipart form parse error - {error}") from None
        except UnicodeDecodeError:
            raise ParseError(NOT_UTF8.format(kind="Multipart form")) from None
        data.encoding = files.encoding = settings.DEFAULT_CHARSET
        return parsers.DataAndFiles(data, files)
