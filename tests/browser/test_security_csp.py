"""The Content-Security-Policy holds in a real browser: every browser test fails on a violation
(tests/browser/conftest.py); these visit the pages no other browser test opens."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login, screenshot, watch_csp

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_api_documentation_pages_render_under_their_policy(page, owner):
    login(page, "owner", "owner-pass-123")
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert page.locator(".swagger-ui .opblock").count() > 10
    page.goto("/api/redoc/")
    page.wait_for_selector("redoc [role=navigation], .menu-content", timeout=20_000)
    page.wait_for_timeout(500)  # Redoc's logo request is refused (expected); nothing else may be


def test_the_harness_catches_a_violation(browser, live_server):
    """The listener works: an inline script on a page with our policy is reported."""
    context = browser.new_context(base_url=live_server.url)
    violations = watch_csp(context)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = '1'; document.body.append(s); }")
    page.wait_for_timeout(300)
    context.close()
    assert any("script-src" in v for v in violations), violations


def test_the_sign_in_and_open_link_pages_have_no_violation(page, owner):
    from tests.conftest import make_study

    make_study(owner, slug="open", open_link_enabled=True)
    page.goto("/accounts/login/")
    page.goto("/s/open/")
    page.click("button[value=agree]")
    page.wait_for_url("**/p/**")
    page.goto("/s/open/")
    assert page.get_by_text("Not you? Start a new sort").is_visible()
    screenshot(page, "security-open-link-resume")
