"""Reading a provider's `options` table into its pydantic model, with errors that name fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

OptionsT = TypeVar("OptionsT", bound=BaseModel)


def parse_options(
    model: type[OptionsT], name: str, options: Mapping[str, Any], kind: str = ""
) -> OptionsT:
    """`options` as `model`; a ValueError names the provider (of `kind`) and every bad field."""
    try:
        return model.model_validate(dict(options))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc'])) or 'options'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ValueError(f"{options_error(name, kind)}: {problems}") from exc


def options_error(name: str, kind: str = "") -> str:
    """The start of every message about a provider's bad options."""
    return f"invalid options for {kind + ' ' if kind else ''}provider {name!r}"
