"""Headless Chromium (Debian's package) driven by Playwright, against pytest-django's live server.

Each test gets a fresh context; `phone` emulates a 360-px touch screen. `axe_violations` runs the
vendored axe-core in the page and returns serious and critical violations.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-4.14.1.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
SCREENSHOTS_WANTED = os.environ.get("SCREENSHOTS", "0") != "0"  # `make screenshots`


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


class RequestsInFlight:
    """Counts the live server's requests (its thread runs in this process) so a test's teardown can
    wait for the last one: a debounced autosave that lands while pytest-django flushes the database
    makes the flush fail and leaks rows into the next test."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        request_started.connect(self.started, weak=False)
        request_finished.connect(self.finished, weak=False)

    def started(self, **_kwargs) -> None:
        with self.lock:
            self.count += 1

    def finished(self, **_kwargs) -> None:
        with self.lock:
            self.count -= 1

    def wait_until_idle(self, quiet: float = 0.05, timeout: float = 15.0) -> None:
        """Return once no request has been in flight for `quiet` seconds (or after `timeout`)."""
        deadline = time.monotonic() + timeout
        idle_since = time.monotonic()
        while time.monotonic() < deadline:
            if self.count > 0:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= quiet:
                return
            time.sleep(0.02)


REQUESTS_IN_FLIGHT = RequestsInFlight()


@pytest.fixture(autouse=True)
def live_server_idle_before_flush(transactional_db, live_server):
    """Set up after the database, so torn down before its flush: wait for the server to go quiet
    (every page and context of the test is closed by then)."""
    yield
    REQUESTS_IN_FLIGHT.wait_until_idle()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# Every page reports what the Content-Security-Policy refused; a browser test fails on any.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.qsortCspViolation(`${event.violatedDirective} refused ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || document.location.pathname}:${event.lineNumber}`);
});
"""


# Blocked on purpose, and harmless: Redoc (/api/redoc/) always loads its logo from a CDN and hides
# it when the load fails. The policy is right to refuse it (no CDN); the page works without it.
EXPECTED_BLOCKS = ("https://cdn.redoc.ly/redoc/logo-mini.svg",)


def watch_csp(context) -> list[str]:
    """Collect CSP violations (the DOM event and Chromium's console message) in this context."""
    violations: list[str] = []

    def record(text: str) -> None:
        if not any(url in text for url in EXPECTED_BLOCKS):
            violations.append(text)

    context.expose_binding("qsortCspViolation", lambda _source, text: record(text))
    context.add_init_script(REPORT_CSP_VIOLATIONS)

    def on_console(message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            record(message.text)

    context.on("console", on_console)
    return violations


def _context(browser, live_server, **options):
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(10_000)
    violations = watch_csp(context)
    yield context.new_page()
    context.close()
    assert not violations, f"Content-Security-Policy violations: {violations}"


@pytest.fixture
def page(browser, live_server):
    yield from _context(browser, live_server, viewport={"width": 1280, "height": 900})


@pytest.fixture
def phone(browser, live_server):
    yield from _context(
        browser,
        live_server,
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the current page."""
    # Evaluated through DevTools, not added as an inline <script>, which the page's CSP refuses;
    # once per document. Only the serious and critical violations cross back to Python.
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    return page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
             .filter((v) => v.impact === "serious" || v.impact === "critical")"""
    )


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG (the full page, or the viewport) under screenshots/ (git-ignored) for a person to
    look at, when asked (`make screenshots`, SCREENSHOTS=1): a 2x phone page takes half a second of
    CPU to encode, a minute over the suite, and no test reads the file."""
    path = SCREENSHOTS / f"{name}.png"
    if SCREENSHOTS_WANTED:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(path), full_page=full_page)
    return path


def keep_file(name: str, data: bytes) -> None:
    """Save another file for a person to look at (a printed PDF) beside the screenshots, when asked."""
    if SCREENSHOTS_WANTED:
        SCREENSHOTS.mkdir(exist_ok=True)
        (SCREENSHOTS / name).write_bytes(data)


def htmx_settled(page) -> None:
    """Wait until htmx has no request in flight and has finished swapping and settling."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def sign_in(page, username: str) -> None:
    """Start signed in as `username`, with the session cookie the sign-in form would have set: for
    tests of the pages behind it (the form itself is driven by login(), test_smoke and the flows)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    user = get_user_model().objects.get(username=username)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "domain": "localhost", "path": "/"}])


def login(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
