"""Pages anyone can open (the public network profile, the sign-in form), the skip link
for keyboard users, and the narrow (phone) layout."""

import pytest

from backbone.tests_browser.support import NETWORK, assert_accessible, follow, log_in, visit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PHONE_WIDTH = 375


def test_public_network_is_readable_without_signing_in(page, demo):
    visit(page, f"{NETWORK}/")
    assert page.get_by_role("heading", level=1).inner_text() == demo.name
    assert page.get_by_text(demo.purpose).is_visible()
    assert page.get_by_role("link", name="Sign in").is_visible()

    visit(page, f"{NETWORK}/partners/")
    assert page.locator("#partner-results tbody tr").count() > 0
    assert page.get_by_text("Prospect", exact=True).count() == 0, "prospects stay private"


def test_sign_in_page_passes_axe_also_with_an_error(page, demo):
    visit(page, "/accounts/login/")
    page.get_by_label("Email").fill("nobody@demo.backbone.test")
    page.get_by_label("Password").fill("not-the-password")
    follow(page, page.locator("main form").get_by_role("button", name="Sign In"))
    assert "/accounts/login/" in page.url
    assert page.get_by_text("not correct").is_visible()
    assert_accessible(page)


@pytest.mark.parametrize("path", [f"{NETWORK}/", "/accounts/login/"])
def test_first_tab_focuses_the_skip_link_which_moves_focus_to_main(page, demo, path):
    page.goto(path)

    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => ({cls: document.activeElement.className, text: document.activeElement.innerText,"
        " left: document.activeElement.getBoundingClientRect().left})"
    )
    assert focused["cls"] == "skip-link" and focused["text"] == "Skip to main content"
    assert focused["left"] >= 0, "the focused skip link is on screen"

    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null"), (
        "the next Tab stays in the main content, past the navigation"
    )


def test_home_fits_a_phone_screen_without_sideways_scrolling(page, demo, tmp_path):
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    for who in ["public", "member"]:
        if who == "member":
            log_in(page, "member")
        for path in [f"{NETWORK}/", f"{NETWORK}/partners/"]:
            page.goto(path)
            shot = tmp_path / f"{who}-{path.strip('/').replace('/', '-')}-{PHONE_WIDTH}.png"
            page.screenshot(path=shot, full_page=True)
            width = page.evaluate("document.scrollingElement.scrollWidth")
            assert width <= PHONE_WIDTH + 1, f"{who} {path} is {width}px wide, see {shot}"
        assert_accessible(page)
