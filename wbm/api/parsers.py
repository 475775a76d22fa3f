"""The API's JSON parser: DRF's, with the boundary checks of ``wbm.validation``."""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

from wbm.validation import InvalidInput, load_json


class SafeJSONParser(JSONParser):
    """400 (``parse_error``) for JSON nested deeper than ``MAX_JSON_DEPTH`` levels or holding a
    string that is not valid Unicode (a lone surrogate escape), instead of a 500 later on."""

    def parse(
        self, stream: IO[bytes], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            return load_json(text, parse_constant=strict_constant if self.strict else None)
        except InvalidInput as exc:
            raise ParseError(exc.message) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
