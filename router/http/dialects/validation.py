"""Turn pydantic validation failures into OpenAI-style (message, param, code) triples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from router.errors import InvalidRequestError

_EXPECTED = {
    "string_type": "a string",
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "an integer",
    "bool_type": "a boolean",
    "model_type": "an object",
    "dict_type": "an object",
    "model_attributes_type": "an object",
}


def json_type(value: Any) -> str:
    """How JSON would name the type of `value`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def invalid_request(exc: ValidationError) -> InvalidRequestError:
    """The first validation failure of `exc`, worded as OpenAI words it."""
    error = exc.errors(include_url=False)[0]
    param = ".".join(str(part) for part in error["loc"][:1]) or None
    message, code = _describe(error, param)
    return InvalidRequestError(message, param=param, code=code)


Description = tuple[str, str | None]


def _describe(error: ErrorDetails, param: str | None) -> Description:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if param is None:
        return _describe_body(kind, value, ctx)
    describe = _DESCRIBERS.get(kind)
    if describe is not None:
        return describe(param, value, ctx)
    if kind in _EXPECTED or len(error["loc"]) > 1:
        expected = _EXPECTED.get(kind, "a valid value")
        message = (
            f"Invalid type for '{param}': expected {expected}, but got {json_type(value)} instead."
        )
        return message, "invalid_type"
    return f"Invalid value for '{param}': {error['msg']}.", "invalid_value"


def _describe_body(kind: str, value: Any, ctx: dict[str, Any]) -> Description:
    if kind == "json_invalid":
        reason = ctx.get("error", "invalid JSON")
        message = f"We could not parse the JSON body of your request ({reason})."
        return message, "invalid_json"
    message = f"Invalid request body: expected a JSON object, but got {json_type(value)} instead."
    return message, "invalid_type"


def _missing(param: str, value: Any, ctx: dict[str, Any]) -> Description:
    return f"Missing required parameter: '{param}'.", "missing_required_parameter"


def _unknown(param: str, value: Any, ctx: dict[str, Any]) -> Description:
    return f"Unrecognized request argument supplied: {param}", "unknown_parameter"


def _too_long(param: str, value: Any, ctx: dict[str, Any]) -> Description:
    return (
        f"Invalid '{param}': string too long. Expected a string with maximum length "
        f"{ctx['max_length']}, but got a string with length {len(value)} instead.",
        "string_above_max_length",
    )


def _too_short(param: str, value: Any, ctx: dict[str, Any]) -> Description:
    return (
        f"Invalid '{param}': string too short. Expected a string with minimum length "
        f"{ctx['min_length']}, but got a string with length {len(value)} instead.",
        "string_below_min_length",
    )


def _not_allowed(param: str, value: Any, ctx: dict[str, Any]) -> Description:
    return f"Invalid value: {value!r}. Supported values are: {ctx['expected']}.", "invalid_value"


def _above(param: str, value: Any, ctx: dict[str, Any]) -> Description:
    limit = ctx.get("le", ctx.get("lt"))
    return (
        f"Invalid '{param}': number above maximum value. "
        f"Expected a value <= {limit}, but got {value} instead.",
        "decimal_above_max_value",
    )


def _below(param: str, value: Any, ctx: dict[str, Any]) -> Description:
    limit = ctx.get("ge", ctx.get("gt"))
    return (
        f"Invalid '{param}': number below minimum value. "
        f"Expected a value >= {limit}, but got {value} instead.",
        "decimal_below_min_value",
    )


_DESCRIBERS: dict[str, Callable[[str, Any, dict[str, Any]], Description]] = {
    "missing": _missing,
    "extra_forbidden": _unknown,
    "string_too_long": _too_long,
    "string_too_short": _too_short,
    "literal_error": _not_allowed,
    "less_than_equal": _above,
    "less_than": _above,
    "greater_than_equal": _below,
    "greater_than": _below,
}
