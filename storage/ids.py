"""Identifiers for stored rows."""

from __future__ import annotations

import secrets


def new_id(prefix: str) -> str:
    """An unguessable id such as `ten_<32 hex digits>` (128 random bits)."""
    return f"{prefix}_{secrets.token_hex(16)}"
