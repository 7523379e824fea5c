"""Helpers shared by the browser tests: signing in and the axe-core check."""

import time

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from axe_playwright_python.sync_playwright import Axe

from backbone.demo import seed

NETWORK = "/n/river-city"
BLOCKING_IMPACTS = {"serious", "critical"}

_axe = Axe()


def demo_email(local: str) -> str:
    return f"{local}@{seed.DEMO_DOMAIN}"


def totp_code(secret: str) -> str:
    """The current code, waiting for a fresh period when this one is about to end: a
    code typed at second 29.9 and checked at 30.1 is refused."""
    period = mfa_settings.TOTP_PERIOD
    left = period - time.time() % period
    if left < 3:
        time.sleep(left + 0.05)
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def follow(page, target) -> None:
    """Click a link or submit button and wait for the page it leads to."""
    with page.expect_navigation():
        target.click()


def log_in(page, local: str, *, totp_secret: str | None = None) -> None:
    """Sign in through the real form (and the TOTP step when the user has one)."""
    page.goto("/accounts/login/")
    page.fill("input[name=login]", demo_email(local))
    page.fill("input[name=password]", seed.DEMO_PASSWORD)
    follow(page, page.locator("main form").get_by_role("button", name="Sign In"))
    if totp_secret:
        assert "/accounts/2fa/authenticate/" in page.url, page.url
        page.fill("input[name=code]", totp_code(totp_secret))
        follow(page, page.get_by_role("button", name="Sign In"))
    assert "/accounts/" not in page.url, f"still on {page.url} after signing in"


def blocking_violations(page) -> list[dict]:
    results = _axe.run(page)
    return [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict], url: str) -> str:
    lines = [f"{len(violations)} serious/critical axe violation(s) on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:10]:
            lines.append(f"    {node['target']}: {node['html'][:200]}")
            if node.get("failureSummary"):
                lines.append("      " + node["failureSummary"].replace("\n", "\n      "))
    return "\n".join(lines)


def assert_accessible(page) -> None:
    """0 axe-core violations of serious or critical impact on the current page."""
    violations = blocking_violations(page)
    assert not violations, describe(violations, page.url)


def visit(page, path: str, *, status: int = 200, axe: bool = True) -> None:
    """Open PATH, check the HTTP status, and (unless told not to) run axe on the result."""
    response = page.goto(path)
    assert response is not None and response.status == status, (
        f"{path}: HTTP {response.status if response else None}, expected {status}"
    )
    if axe:
        assert_accessible(page)
