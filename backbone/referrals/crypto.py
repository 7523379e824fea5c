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


def new_key() -> str:
    return Fernet.generate_key().decode()


def encrypted_columns() -> list[tuple[str, list[str]]]:
    """(table, [column, ...]) of every encrypted field of the referrals models."""
    from django.apps import apps

    found = []
    for model in apps.get_app_config("referrals").get_models():
        columns = [
            f.column for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)
        ]
        if columns:
            found.append((model._meta.db_table, columns))
    return found


def _is_current(token: str, newest: Fernet) -> bool:
    try:
        newest.decrypt(token[len(PREFIX) :].encode())
    except InvalidToken:
        return False
    return True


def rotate_all(*, batch_size: int = 1000, dry_run: bool = False) -> dict[str, dict[str, int]]:
    """Re-encrypt every encrypted value of the referrals models with the newest key, in
    batches of BATCH_SIZE rows, one transaction per batch. Values already under the
    newest key are left alone (so a second run changes nothing); plain values left by
    an older schema are encrypted. Counts per table: rotated, current, encrypted.

    A value no configured key opens stops the run with ImproperlyConfigured: the old key
    was dropped too early and must be put back (after the new one)."""
    from django.db import connection, transaction

    newest = Fernet(encryption_keys()[0])
    counts: dict[str, dict[str, int]] = {}
    for table, columns in encrypted_columns():
        tally = counts[table] = {"rotated": 0, "current": 0, "encrypted": 0}
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        table_sql = connection.ops.quote_name(table)
        last = None
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                where = "" if last is None else "WHERE id > %s "
                # Table and column names come from the models' metadata, quoted.
                cursor.execute(
                    f"SELECT id, {quoted} FROM {table_sql} {where}ORDER BY id LIMIT %s",  # noqa: S608
                    ([] if last is None else [last]) + [batch_size],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                for pk, *values in rows:
                    changes = {}
                    for column, value in zip(columns, values, strict=True):
                        if not value:
                            continue
                        if not value.startswith(PREFIX):
                            changes[column] = encrypt(value)
                            tally["encrypted"] += 1
                        elif _is_current(value, newest):
                            tally["current"] += 1
                        else:
                            try:
                                changes[column] = rotate(value)
                            except InvalidToken as exc:
                                raise ImproperlyConfigured(
                                    f"{table}.{column} of row {pk} cannot be decrypted with "
                                    "any key in BACKBONE_ENCRYPTION_KEYS. Put the old key back "
                                    "after the new one and run rotate-key again."
                                ) from exc
                            tally["rotated"] += 1
                    if changes and not dry_run:
                        assignments = ", ".join(
                            f"{connection.ops.quote_name(c)} = %s" for c in changes
                        )
                        cursor.execute(
                            f"UPDATE {table_sql} SET {assignments} WHERE id = %s",  # noqa: S608
                            [*changes.values(), pk],
                        )
    return counts
