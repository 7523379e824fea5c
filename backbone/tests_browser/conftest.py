"""Fixtures for the browser tests: headless Chromium (one per test module), the demo
network seeded fresh for every test, and a new browser context (cookies, storage) per test.
"""

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """Chromium, driven through Playwright's sync API.

    While Playwright runs, its asyncio loop counts as running in this thread, so Django
    would refuse the ORM calls of fixtures and test bodies as "async unsafe" although
    nothing here is concurrent. The permission is given only while the browser is up
    (module scope, not session): set for the whole run it would leak into the other
    tests, and `check --deploy` rightly fails when it finds it.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing; `make browsers` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
            _close_connections()


def _close_connections() -> None:
    """Close the connections Django opened while Playwright's loop ran: they live apart
    from the others, and PostgreSQL refuses to drop a test database still in use."""
    from django.db import connections

    connections.close_all()


@pytest.fixture
def demo(live_server):
    """The "river-city" demo network, seeded into the live server's database.

    These tests are transactional (the live server needs committed data), so Django
    empties every table after each; the sectors a migration loaded are put back by the
    suite's `_fixed_vocabularies` fixture and by the seed itself.
    The cache is cleared as well: allauth remembers used TOTP codes there, and the admin
    signs in again in the next test within the same 30 seconds.
    """
    from django.core.cache import cache

    from backbone.demo import seed

    cache.clear()
    return seed.seed("small", log=lambda *args: None)


@pytest.fixture
def page(browser, live_server, demo):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
