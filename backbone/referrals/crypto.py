"""Encryption at rest for client fields, and blind indexes for finding duplicates.

Keys come from the environment: `BACKBONE_ENCRYPTION_KEYS` is a comma-separated list of
Fernet keys, newest first. Values are encrypted with the first and decrypted with any,
so a rotation adds a new key in front, runs `backbone referrals rotate-key`, then drops
the old key. Blind indexes (keyed HMACs of normalized values) let the database match a
date of birth or a name's sound without holding either in plain text.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import unicodedata

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "enc1:"


def _derived_key(purpose: str) -> bytes:
    digest = hashlib.sha256(f"backbone:{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest)


@functools.cache
def _keys_from(raw: str) -> tuple[bytes, ...]:
    keys = tuple(part.strip().encode() for part in raw.split(",") if part.strip())
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                "BACKBONE_ENCRYPTION_KEYS holds a value that is not a Fernet key "
                "(32 url-safe base64-encoded bytes; make one with "
                "`backbone referrals new-key`)."
            ) from exc
    return keys


def encryption_keys() -> tuple[bytes, ...]:
    """The configured keys, newest first. Without any, a key derived from SECRET_KEY
    (development and tests only: production refuses to start without keys)."""
    keys = _keys_from(getattr(settings, "BACKBONE_ENCRYPTION_KEYS", ""))
    return keys or (_derived_key("encryption"),)


@functools.cache
def _fernet(keys: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(encryption_keys())


def encrypt(value: str) -> str:
    return PREFIX + fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token.startswith(PREFIX):
        raise ValueError("This value is not encrypted by Backbone.")
    try:
        return fernet().decrypt(token[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A client field cannot be decrypted with any key in BACKBONE_ENCRYPTION_KEYS; "
            "was a key dropped before `backbone referrals rotate-key` ran?"
        ) from exc


def rotate(token: str) -> str:
    """The same value encrypted with the newest key."""
    return PREFIX + fernet().rotate(token[len(PREFIX) :].encode()).decode()


def normalize(value: str) -> str:
    """Lowercase ASCII letters and digits only: 'José  O'Neil' -> 'joseoneil'."""
    text = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.lower() if ch.isalnum())


def blind_index(value: str, purpose: str) -> str:
    """A keyed HMAC of a normalized value: equal inputs match, the value stays secret."""
    key = getattr(settings, "BACKBONE_BLIND_INDEX_KEY", "") or _derived_key("blind-index")
    if isinstance(key, str):
        key = key.encode()
    digest = hmac.new(key, f"{purpose}:{normalize(value)}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


class EncryptedTextField(models.TextField):
    """Text stored encrypted (Fernet, AES-128-CBC + HMAC-SHA256); '' stays ''.

    It cannot be filtered or ordered on in the database; use a blind index for lookups."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
