"""The demo logins benchmarks act as; the seed creates them with a known password."""

from __future__ import annotations

from benchmarks.client import Client, log_in

NETWORK = "river-city"
ROLES = ("public", "viewer", "admin")
EMAIL_LOCAL_PARTS = {"viewer": "viewer", "admin": "admin"}
# Text the network home shows only to this role, to prove the session is the right one.
HOME_MARKERS = {"viewer": b"<dt>Invited</dt>", "admin": b"Edit the network profile"}


def django_setup() -> None:
    """Configure Django in this process with the benchmark's environment (idempotent)."""
    import django

    django.setup()


def current_totp_code(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def email_for(role: str) -> str:
    django_setup()
    from backbone.demo import seed

    return f"{EMAIL_LOCAL_PARTS[role]}@{seed.DEMO_DOMAIN}"


def log_in_as(base_url: str, role: str) -> dict[str, str]:
    if role == "public":
        return {}
    email = email_for(role)
    from backbone.demo import seed

    totp = (lambda: current_totp_code(seed.DEMO_TOTP_SECRET)) if role == "admin" else None
    cookies = log_in(base_url, email, seed.DEMO_PASSWORD, totp)
    client = Client(base_url, cookies)
    try:
        home = client.get(f"/n/{NETWORK}/")
    finally:
        client.close()
    if home.status != 200 or HOME_MARKERS[role] not in home.body:
        raise RuntimeError(f"Logged in as {email}, but the network home is not the {role}'s.")
    return cookies
