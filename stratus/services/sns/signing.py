"""Message signatures: the JSON envelopes SNS sends are signed so endpoints can verify them.

stratus makes one RSA key and a self-signed certificate per store (kept in ``sns_signing``,
so every node and every restart signs with the same key) and serves the certificate at
``/_stratus/sns/SimpleNotificationService-<id>.pem``: the ``SigningCertURL``.
SignatureVersion 1 is RSA with SHA1 and 2 is RSA with SHA256, both over AWS's canonical
string: selected ``name\\nvalue\\n`` pairs in a fixed order (SNS developer guide,
"Verifying the signatures of Amazon SNS messages").
"""

from __future__ import annotations

import base64
import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.x509.oid import NameOID

NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")


def canonical_string(envelope: dict[str, Any]) -> str:
    fields = NOTIFICATION_FIELDS if envelope["Type"] == "Notification" else CONFIRMATION_FIELDS
    return "".join(f"{name}\n{envelope[name]}\n" for name in fields if envelope.get(name) is not None)


@dataclass(frozen=True, slots=True)
class SigningKey:
    cert_id: str
    key: RSAPrivateKey
    cert_pem: bytes

    @property
    def cert_file(self) -> str:
        return f"SimpleNotificationService-{self.cert_id}.pem"

    def sign(self, envelope: dict[str, Any], version: str = "1") -> str:
        digest = hashes.SHA256() if version == "2" else hashes.SHA1()  # noqa: S303 -- SNS's version 1 is SHA1
        signature = self.key.sign(canonical_string(envelope).encode(), padding.PKCS1v15(), digest)
        return base64.b64encode(signature).decode()


def new_key_material(now: datetime.datetime) -> tuple[str, bytes, bytes]:
    """(cert id, private key PEM, certificate PEM) for a fresh signing key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return uuid.uuid4().hex, key_pem, cert.public_bytes(serialization.Encoding.PEM)


def load_key(cert_id: str, key_pem: bytes, cert_pem: bytes) -> SigningKey:
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, RSAPrivateKey)
    return SigningKey(cert_id, key, cert_pem)
