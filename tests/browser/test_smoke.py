"""The browser harness itself: Chromium starts, serves our pages, axe runs."""

from __future__ import annotations

import pytest

from tests.browser.conftest import axe_violations, login

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_signed_in_facilitator_sees_the_demo_study(page, demo_study):
    login(page, "facilitator", "qsort-demo-2026")
    page.goto("/studies/")
    assert page.get_by_text("Relapse and recovery").first.is_visible()


def test_an_admin_reaches_the_admin_pages(page, django_user_model, demo_study):
    django_user_model.objects.create_superuser("admin", password="admin-pass-123")
    login(page, "admin", "admin-pass-123")
    page.goto("/admin/studies/study/")
    assert page.get_by_text("Relapse and recovery").first.is_visible()


def test_the_login_page_has_no_serious_accessibility_problems(phone):
    phone.goto("/accounts/login/")
    assert axe_violations(phone) == []


def test_axe_reports_a_serious_problem_and_leaves_a_mild_one_out(page):
    """The page checks would pass vacuously if axe never ran: a nameless button (critical) is
    reported, once per page however often axe is asked; an empty heading (minor) is not."""
    page.set_content('<html lang="en"><title>t</title><main><h2></h2><button></button></main></html>')
    first = axe_violations(page)
    assert [v["id"] for v in first] == ["button-name"] and first[0]["impact"] == "critical"
    assert [v["id"] for v in axe_violations(page)] == ["button-name"]
