"""Encryption at rest of client fields, key rotation, and the production key check."""

import datetime
import io
import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection

from backbone.referrals import consents, crypto, people
from backbone.referrals.models import Consent, Person, ReferralMessage
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db

PLAIN = [
    "Maria",
    "Quintero",
    "2001-04-03",
    "555-0134",
    "maria.q@example.org",
    "tutoring in algebra",
    "Sent with consent",
    "afternoon sessions",
    "Moved away",
    "Same person twice",
    "in her words",
]


def raw_dump() -> str:
    """Every value of every referrals table, as the database holds it."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if table.startswith("referrals_"):
                cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
                chunks += [repr(row) for row in cursor.fetchall()]
    return "\n".join(chunks)


def test_the_raw_database_holds_no_plain_identity_notes_or_messages(world):
    built = f.client_world(world)
    access = built["access_a"]
    consent = consents.consent_record(
        access=access,
        person=built["person"],
        recipients="treating",
        information=["identity"],
        information_description="Name only, in her words",
        purpose="other",
        purpose_description="Same person twice",
        expiry_event="When the referral closes",
        signature="verbal",
        signed_by="Maria Quintero",
    )
    consents.consent_revoke(access=access, consent=consent, note="Moved away")
    dump = raw_dump()
    assert "enc1:" in dump
    for text in PLAIN:
        assert text.lower() not in dump.lower(), text
    # The application reads them back.
    person = Person.objects.get(pk=built["person"].pk)
    assert (person.given_name, person.birth_date, person.email) == (
        "Maria",
        "2001-04-03",
        "maria.q@example.org",
    )
    assert ReferralMessage.objects.get().body == "She prefers afternoon sessions."
    assert Consent.objects.get(pk=consent.pk).revocation_note == "Moved away"


def test_merge_reason_is_encrypted(world):
    built = f.client_world(world)
    access = built["access_a"]
    twin = people.person_create(
        access=access,
        given_name="Maria",
        family_name="Quintero",
        birth_date=datetime.date(2001, 4, 3),
    )
    people.person_merge(
        access=access, kept=built["person"], merged=twin, reason="Same person twice"
    )
    assert "same person twice" not in raw_dump().lower()


def test_rotation_with_two_keys_then_the_old_key_dropped(world, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.BACKBONE_ENCRYPTION_KEYS = old
    built = f.client_world(world)
    before = raw_dump()

    settings.BACKBONE_ENCRYPTION_KEYS = f"{new},{old}"
    out = io.StringIO()
    call_command("referrals", "rotate-key", "--batch-size", "2", stdout=out)
    text = out.getvalue()
    assert "referrals_person: 5 rotated, 0 already current" in text  # 2 names, dob, phone, email
    assert "referrals_referralmessage: 1 rotated" in text
    after = raw_dump()
    assert after != before

    again = io.StringIO()
    call_command("referrals", "rotate-key", stdout=again)
    assert "Total: 0 rotated" in again.getvalue()
    assert raw_dump() == after  # idempotent: nothing rewritten

    settings.BACKBONE_ENCRYPTION_KEYS = new  # the old key dropped after rotation
    assert Person.objects.get(pk=built["person"].pk).family_name == "Quintero"
    assert ReferralMessage.objects.get().body == "She prefers afternoon sessions."

    settings.BACKBONE_ENCRYPTION_KEYS = old  # only the old key: nothing opens
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        Person.objects.get(pk=built["person"].pk)
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("referrals", "rotate-key", stdout=io.StringIO())


def test_rotation_refuses_when_the_old_key_was_dropped_too_early(world, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.BACKBONE_ENCRYPTION_KEYS = old
    f.client_world(world)
    settings.BACKBONE_ENCRYPTION_KEYS = new
    dump = raw_dump()
    with pytest.raises(CommandError, match="Put the old key back"):
        call_command("referrals", "rotate-key", stdout=io.StringIO())
    assert raw_dump() == dump


def test_dry_run_counts_and_writes_nothing(world, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.BACKBONE_ENCRYPTION_KEYS = old
    f.client_world(world)
    settings.BACKBONE_ENCRYPTION_KEYS = f"{new},{old}"
    dump = raw_dump()
    out = io.StringIO()
    call_command("referrals", "rotate-key", "--dry-run", stdout=out)
    assert "Dry run: nothing was written." in out.getvalue()
    assert "referrals_person: 5 rotated" in out.getvalue()
    assert raw_dump() == dump


def test_new_key_prints_a_fernet_key():
    out = io.StringIO()
    call_command("referrals", "new-key", stdout=out)
    Fernet(out.getvalue().strip().encode())  # raises on a malformed key


def test_a_malformed_key_is_refused_clearly(settings):
    settings.BACKBONE_ENCRYPTION_KEYS = "not-a-key"
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        crypto.encrypt("x")


def test_blind_indexes_match_without_the_plain_value():
    assert people.name_index("Smith") == people.name_index("Smyth")
    assert people.name_index("Smith") != people.name_index("Jones")
    assert "smith" not in people.name_index("Smith").lower()


def _settings_import(env_extra: dict) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"BACKBONE_ENCRYPTION_KEYS", "DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}
    }
    env.update({"DEBUG": "0", "SECRET_KEY": "s" * 60, "ALLOWED_HOSTS": "example.org"})
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-c", "import backbone.config.settings"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_encryption_keys():
    refused = _settings_import({})
    assert refused.returncode != 0
    assert "BACKBONE_ENCRYPTION_KEYS must hold at least one Fernet key" in refused.stderr
    started = _settings_import({"BACKBONE_ENCRYPTION_KEYS": Fernet.generate_key().decode()})
    assert started.returncode == 0, started.stderr


def test_audit_rows_hold_no_identity(world):
    from backbone.core.models import AuditEvent

    built = f.client_world(world)
    consents.consent_revoke(access=built["access_a"], consent=built["consent"], note="Moved away")
    events = AuditEvent.objects.filter(object_type__startswith="referrals.")
    assert events.count() >= 3
    text = "\n".join(f"{e.object_repr} {e.before} {e.after}" for e in events)
    for plain in ("Maria", "Quintero", "2001-04-03", "555-0134", "maria.q@", "Moved away"):
        assert plain not in text


def test_reindex_after_the_blind_index_key_changed(world, settings):
    """A new BACKBONE_BLIND_INDEX_KEY leaves the stored indexes stale (duplicates are no
    longer found by date of birth or name); `reindex` recomputes them from the decrypted
    fields, writes only the index columns, and a second run changes nothing."""
    settings.BACKBONE_BLIND_INDEX_KEY = "old-blind-index-key"
    person = f.client_world(world)["person"]
    born = datetime.date(2001, 4, 3)
    assert Person.objects.filter(birth_date_index=people.birth_date_index(born)).exists()

    settings.BACKBONE_BLIND_INDEX_KEY = "new-blind-index-key"
    assert not Person.objects.filter(birth_date_index=people.birth_date_index(born)).exists()
    stored = Person.objects.values_list("given_name", "family_name", "birth_date", "phone")
    before = list(stored)

    dry = io.StringIO()
    call_command("referrals", "reindex", "--dry-run", stdout=dry)
    assert "1 reindexed, 0 already current. Dry run" in dry.getvalue()
    assert not Person.objects.filter(birth_date_index=people.birth_date_index(born)).exists()

    out = io.StringIO()
    call_command("referrals", "reindex", "--batch-size", "1", stdout=out)
    assert "People: 1 reindexed, 0 already current." in out.getvalue()
    found = Person.objects.get(birth_date_index=people.birth_date_index(born))
    assert found.pk == person.pk
    assert found.name_index == people.name_index("Quintero")
    assert list(stored) == before
    assert "quintero" not in raw_dump().lower()

    again = io.StringIO()
    call_command("referrals", "reindex", stdout=again)
    assert "People: 0 reindexed, 1 already current." in again.getvalue()


def test_reindex_refuses_a_batch_size_below_one():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("referrals", "reindex", "--batch-size", "0", stdout=io.StringIO())
