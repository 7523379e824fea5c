import subprocess
import sys

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core import mail
from django.test import Client
from django.urls import reverse

from backbone.testing import factories as f

pytestmark = pytest.mark.django_db


def login(client, email, password=f.DEFAULT_PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_members_sign_in_with_email(world):
    client = Client()
    response = login(client, "viewer@river.example")
    assert response.status_code == 302
    home = client.get(reverse("framework:network-home", args=[world.network.slug]))
    assert home.status_code == 200


def test_network_admin_must_pass_totp(world):
    client = Client()
    response = login(client, "network-admin@river.example")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert (
        client.get(reverse("framework:network-home", args=[world.network.slug])).status_code == 302
    )  # not logged in yet
    secret = (
        Authenticator.objects.get(user=world.users["network_admin"]).wrap().instance.data["secret"]
    )
    from allauth.mfa.utils import decrypt

    code = format_hotp_value(hotp_value(decrypt(secret), next(yield_hotp_counters_from_time())))
    done = client.post(reverse("mfa_authenticate"), {"code": code})
    assert done.status_code == 302
    assert (
        client.get(reverse("framework:network-home", args=[world.network.slug])).status_code == 200
    )


def test_network_admin_without_totp_is_sent_to_set_it_up(world):
    Authenticator.objects.filter(user=world.users["network_admin"]).delete()
    client = Client()
    client.force_login(world.users["network_admin"])
    response = client.get(reverse("framework:network-home", args=[world.network.slug]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    # other roles are not forced
    viewer = Client()
    viewer.force_login(world.users["viewer"])
    assert (
        viewer.get(reverse("framework:network-home", args=[world.network.slug])).status_code == 200
    )


def test_failed_logins_are_throttled(world):
    client = Client()
    for _ in range(5):
        response = login(client, "viewer@river.example", "wrong-password")
        assert response.status_code == 200  # form error
    blocked = login(client, "viewer@river.example", "wrong-password")
    assert (
        blocked.status_code == 429 or "Too many failed login attempts" in blocked.content.decode()
    )
    # even the right password is refused while throttled
    still = login(client, "viewer@river.example")
    assert still.status_code != 302


def test_password_reset_sends_a_link(world):
    client = Client()
    response = client.post(reverse("account_reset_password"), {"email": "viewer@river.example"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_signup_is_closed_without_an_invitation(world):
    response = Client().get(reverse("account_signup"))
    assert "closed" in response.content.decode().lower()


def run_backbone(env, *args):
    import os

    return subprocess.run(
        [sys.executable, "-m", "backbone", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def test_production_refuses_the_development_secret():
    result = run_backbone({"DEBUG": "0", "SECRET_KEY": ""}, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = run_backbone(
        {
            "DEBUG": "0",
            "SECRET_KEY": "x7" * 30 + "-production-secret-for-the-deploy-check",
            "ALLOWED_HOSTS": "backbone.example.org",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
            "BACKBONE_ENCRYPTION_KEYS": "fkPtVHvE7XxUO5JHZ1dYEoXdEyRA8ZslBu5cxdCO0LM=",
        },
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_default_cache_is_shared_between_server_processes(tmp_path, settings):
    """Throttling counts failed logins in the cache; two processes must share it."""
    import os

    settings_env = {"DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/t.db"}
    script = (
        "from django.core.cache import cache; import sys;"
        "cache.set('probe', sys.argv[1]) if sys.argv[1] != '-' else print(cache.get('probe'))"
    )
    run = [
        sys.executable,
        "-c",
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE']='backbone.config.settings';"
        f"django.setup(); exec({script!r})",
    ]
    env = {**os.environ, **settings_env}
    env.pop("REDIS_URL", None)
    subprocess.run([*run, "written-by-one"], env=env, check=True, timeout=60)
    other = subprocess.run([*run, "-"], env=env, capture_output=True, text=True, timeout=60)
    assert other.stdout.strip() == "written-by-one"
