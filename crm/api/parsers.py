"""The API's one parser: DRF's JSON parser, refusing what would crash the standard library."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DrfJSONParser


class JSONParser(DrfJSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:  # [[[[...]]]] a thousand deep: json.loads runs out of stack
            raise ParseError(_("JSON parse error - nested too deeply.")) from None
