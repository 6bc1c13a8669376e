"""The wire dialects the router speaks."""

from collections.abc import Awaitable, Callable
from typing import Literal

DialectName = Literal["openai", "distribute", "dedalus", "aqueduct"]
# The dialect a request speaks when neither its key nor its path names one.
DEFAULT_DIALECT: DialectName = "openai"
# Reads a speech request's body, within its size limit, once its dialect is ready for it.
BodyReader = Callable[[], Awaitable[bytes]]
