"""Ed25519 signing of tree heads.  The key comes from settings or, when unset, a generated local file."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dancu.config import Settings
from dancu.ledger.domain import TreeHead

log = logging.getLogger(__name__)
KEY_FILE = "ledger-signing.key"


def key_id(public_key: bytes) -> str:
    """Hex SHA-256 of the raw 32-byte public key."""
    return hashlib.sha256(public_key).hexdigest()


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey

    @classmethod
    def from_seed(cls, seed: bytes) -> Signer:
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, head: TreeHead) -> TreeHead:
        signature = self.private_key.sign(head.signed_bytes())
        return TreeHead(head.tree_size, head.root_hash, head.timestamp_ms, self.key_id, signature, head.frontier)


def verify_head(head: TreeHead, public_key: bytes) -> bool:
    """True when ``head`` carries a valid signature by ``public_key``."""
    if head.key_id != key_id(public_key):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(head.signature, head.signed_bytes())
    except InvalidSignature:
        return False
    return True


def load_signer(settings: Settings) -> Signer:
    """The configured key (base64 raw 32 bytes), else ``data_dir/ledger-signing.key``, generated on first use."""
    if settings.ledger_signing_key:
        return Signer.from_seed(base64.b64decode(settings.ledger_signing_key))
    path = Path(settings.data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(base64.b64encode(os.urandom(32)).decode() + "\n")
        log.warning("generated a new ledger signing key", extra={"path": str(path)})
    return Signer.from_seed(base64.b64decode(path.read_text().strip()))
