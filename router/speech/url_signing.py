"""HMAC signatures for URLs that work without an API key until they expire."""

from __future__ import annotations

import base64
import hashlib
import hmac


class UrlSigner:
    """Signs a path together with its expiry time, and checks such signatures."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def sign(self, path: str, expires: int) -> str:
        """The signature of `path` valid until the Unix time `expires`."""
        digest = hmac.new(self._secret, f"{path}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def verify(self, path: str, expires: int, signature: str) -> bool:
        """Whether `signature` is the one `sign` gives for `path` and `expires`."""
        return hmac.compare_digest(self.sign(path, expires), signature)
