"""Strict parsing of what clients send: the one place that turns text into whole numbers, that
refuses text PostgreSQL cannot store, and that reads JSON with limits.

Why strict: `"²".isdigit()` is true but `int("²")` fails, `int("١٢")` is 12, a 5,000-digit
number is slow to convert, PostgreSQL refuses NUL bytes and lone surrogates in text and JSON,
and deeply nested JSON exhausts Python's recursion. Each of those was a 500; here each is a
plain answer (None or InputRejected with a message for people).
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# ASCII digits only, an optional sign, at most nine digits (no grid value, statement number,
# id or version in qsort comes near 10^9; larger is an attack or a typo).
WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,9}")
MAX_JSON_DEPTH = 20
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class InputRejected(ValueError):
    """What was sent cannot be read; the message says why in plain words."""


def whole_number(raw: object, *, low: int = -(10**9), high: int = 10**9) -> int | None:
    """An int from an int, an integral float or ASCII-digit text within [low, high]; else None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, float) and raw.is_integer() and abs(raw) <= 10**9:
        raw = int(raw)
    if isinstance(raw, str):
        text = raw.strip(" \t")
        raw = int(text) if WHOLE_NUMBER.fullmatch(text) else None
    if isinstance(raw, int) and low <= raw <= high:
        return raw
    return None


def storable(text: str) -> bool:
    """False for text PostgreSQL refuses: NUL bytes and lone (unpaired) surrogates."""
    return UNSTORABLE.search(text) is None


def unstorable_message() -> str:
    return _("The text contains a character that cannot be stored (a NUL byte or a broken character).")


def _refuse_constant(name: str) -> float:
    raise InputRejected(_("The data contains %(name)s, which is not a number.") % {"name": name})


def check_json(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Refuse JSON nested deeper than `max_depth` or holding unstorable text (keys included)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not storable(item):
                raise InputRejected(unstorable_message())
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise InputRejected(_("The data is nested too deeply."))
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return value


def load_json(body: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads with limits; InputRejected (a ValueError) with a message for anything else."""
    try:
        value = json.loads(body, parse_constant=_refuse_constant)
    except InputRejected:
        raise
    except RecursionError:
        raise InputRejected(_("The data is nested too deeply.")) from None
    except (ValueError, UnicodeDecodeError):  # includes integers of more than 4,300 digits
        raise InputRejected(_("The data is not valid JSON.")) from None
    return check_json(value, max_depth=max_depth)


class StrictJSONParser(JSONParser):
    """DRF's JSON parser with the same limits, so the API answers 400, never 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return load_json(stream.read() if stream is not None else b"")
        except InputRejected as rejected:
            raise ParseError(str(rejected)) from None
