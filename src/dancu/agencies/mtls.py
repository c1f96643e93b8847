"""Certificate-bound credentials (RFC 8705 style) behind a TLS terminator.

The terminator verifies the client certificate and passes its SHA-256 thumbprint in a configured header
(``DANCU_MTLS_THUMBPRINT_HEADER``); it must strip that header from what clients send.  Thumbprints are kept
in the RFC 8705 ``x5t#S256`` form: base64url of the 32-byte digest, no padding.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re

from starlette.requests import Request

from dancu.agencies.settings import AgencySettings

_HEX = re.compile(r"[0-9A-Fa-f]{64}")


def normalise_thumbprint(value: str) -> str | None:
    """``x5t#S256`` form of a hex (colons allowed) or base64url SHA-256 thumbprint, else ``None``."""
    text = value.strip().replace(":", "")
    if _HEX.fullmatch(text):
        digest = bytes.fromhex(text)
    else:
        try:
            digest = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            return None
    if len(digest) != 32:
        return None
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def presented_thumbprint(request: Request, settings: AgencySettings) -> str | None:
    """The thumbprint of the client certificate the terminator verified, when configured and present."""
    if not settings.mtls_thumbprint_header:
        return None
    raw = request.headers.get(settings.mtls_thumbprint_header)
    return normalise_thumbprint(raw) if raw else None


def certificate_matches(presented: str | None, bound: str) -> bool:
    """True when the presented thumbprint is the one the credential or token is bound to (constant time)."""
    return presented is not None and hmac.compare_digest(presented, bound)
