"""The vendors' own OpenAPI documents, read from the seed files, as schema validators."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema.protocols import Validator
from openapi_schema_validator import OAS30Validator, OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

# The seeds as shipped beside the project, else the copies kept with the tests.
SEED_DIRS = (Path(__file__).parents[3] / "shared" / "seeds", Path(__file__).parents[1] / "seeds")
DISTRIBUTE_SYNC = "000_"
DISTRIBUTE_ASYNC = "001_"
DEDALUS = "004_"
SEED_URI = "urn:seed"
_FENCE = re.compile(r"`{3,}(json|yaml)[^\n]*\n(.*?)\n`{3,}", re.DOTALL)


@cache
def spec(prefix: str) -> dict[str, Any]:
    """The OpenAPI document in the seed file whose name starts with `prefix`."""
    folder = next(path for path in SEED_DIRS if path.is_dir())
    text = next(folder.glob(f"{prefix}*.txt")).read_text(encoding="utf-8")
    match = _FENCE.search(text)
    if match is None:
        raise LookupError(f"no OpenAPI document in seed {prefix}")
    kind, body = match.groups()
    loaded: dict[str, Any] = json.loads(body) if kind == "json" else yaml.safe_load(body)
    return loaded


def validator(prefix: str, path: str, *where: str) -> Validator:
    """A validator for the schema at `where` in the POST operation of `path`.

    `where` is e.g. ("requestBody",) or ("responses", "200").
    """
    document = spec(prefix)
    node = document["paths"][path]["post"]
    for step in where:
        node = node[step]
    schema = next(iter(node["content"].values()))["schema"]
    is_31 = str(document["openapi"]).startswith("3.1")
    draft = DRAFT202012 if is_31 else DRAFT4
    registry: Registry[Any] = Registry().with_resource(
        SEED_URI, Resource.from_contents(document, default_specification=draft)
    )
    cls = OAS31Validator if is_31 else OAS30Validator
    return cls(_rooted(schema), registry=registry)  # type: ignore[no-any-return]


def _rooted(schema: Any) -> Any:
    """`schema` with its local `$ref`s pointing into the seed document."""
    if isinstance(schema, dict):
        return {
            key: SEED_URI + value
            if key == "$ref" and isinstance(value, str) and value.startswith("#")
            else _rooted(value)
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_rooted(item) for item in schema]
    return schema
