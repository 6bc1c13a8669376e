"""Pydantic validation failures worded as Fastify's Ajv words them (`body/input must ...`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from router.errors import InvalidRequestError

_TYPES = {
    "string_type": "string",
    "float_type": "number",
    "int_type": "integer",
    "bool_type": "boolean",
    "model_type": "object",
    "dict_type": "object",
    "model_attributes_type": "object",
}


def ajv_error(exc: ValidationError) -> InvalidRequestError:
    """The first failure of `exc` as one Ajv-style sentence (Fastify reports only the first)."""
    error = exc.errors(include_url=False)[0]
    param = str(error["loc"][0]) if error["loc"] else None
    return InvalidRequestError(_message(error), param=param)


def _message(error: ErrorDetails) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    loc = [str(part) for part in error["loc"]]
    if kind == "json_invalid":
        return "Body is not valid JSON"
    if kind == "missing":
        return f"{_path(loc[:-1])} must have required property '{loc[-1]}'"
    if kind == "extra_forbidden":
        return f"{_path(loc[:-1])} must NOT have additional properties"
    where = _path(loc)
    described = _described(kind, ctx)
    if described is not None:
        return f"{where} {described}"
    if kind in _TYPES:
        return f"{where} must be {_TYPES[kind]}"
    return f"{where} is invalid"


_DESCRIBED: dict[str, Callable[[dict[str, Any]], str]] = {
    "string_too_short": lambda ctx: f"must NOT have fewer than {ctx['min_length']} characters",
    "string_too_long": lambda ctx: f"must NOT have more than {ctx['max_length']} characters",
    "string_pattern_mismatch": lambda ctx: f'must match pattern "{ctx["pattern"]}"',
    "literal_error": lambda _: "must be equal to one of the allowed values",
    "less_than_equal": lambda ctx: f"must be <= {_number(ctx['le'])}",
    "less_than": lambda ctx: f"must be < {_number(ctx['lt'])}",
    "greater_than_equal": lambda ctx: f"must be >= {_number(ctx['ge'])}",
    "greater_than": lambda ctx: f"must be > {_number(ctx['gt'])}",
}


def _described(kind: str, ctx: dict[str, Any]) -> str | None:
    describe = _DESCRIBED.get(kind)
    return None if describe is None else describe(ctx)


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _path(loc: list[str]) -> str:
    return "/".join(["body", *loc])
