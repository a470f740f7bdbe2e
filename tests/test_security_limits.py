"""Rate limits and sign-in lockouts per client address, counted in the shared cache (Redis)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings as live_settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from qsort.studies.models import Participant

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    """Limits on, low, and counted under a key prefix of this test's own. Hourly windows, so a
    window never rolls over in the middle of a test (counts are per fixed window)."""
    settings.RATELIMIT_ENABLE = True
    settings.AXES_ENABLED = True
    settings.QSORT_RATE_LIMITS = {"open_link": "5/h", "participant": "8/h", "login": "6/h"}
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"} for name, config in live_settings.CACHES.items()
    }
    AxesProxyHandler.implementation = None  # django-axes keeps the cache it started with: take the new one
    yield settings
    AxesProxyHandler.implementation = None


@pytest.fixture
def open_study(study):
    study.open_link_enabled = True
    study.save(update_fields=["open_link_enabled"])
    return study


def join(study, address="203.0.113.7", **headers):
    """A new browser (no session) saying 'I agree' on the open link."""
    return Client(REMOTE_ADDR=address).post(f"/s/{study.slug}/", {"choice": "agree"}, **headers)


def test_the_cache_is_redis_when_a_broker_is_configured():
    assert live_settings.CELERY_BROKER_URL.startswith("redis://")
    assert live_settings.CACHES["default"]["BACKEND"] == "qsort.cache.FailOpenRedisCache"


@pytest.fixture
def redis_down(limits):
    """The shared cache on a port where nothing listens: Redis is down (for this test only)."""
    limits.CACHES = {"default": {**live_settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}}
    AxesProxyHandler.implementation = None
    return limits


def test_while_redis_is_down_participants_save_and_submit_and_limits_fail_open(redis_down, study):
    participant = study.invite(1)[0]
    client = Client(REMOTE_ADDR="203.0.113.7", raise_request_exception=False)
    assert client.post(f"/p/{participant.token}/consent/", {"choice": "agree"}).status_code == 302
    saves = [
        client.post(f"/p/{participant.token}/save/", {"version": i + 1}, content_type="application/json")
        for i in range(10)  # over the limit of 8: nothing counts while the cache is away
    ]
    assert [save.status_code for save in saves] == [200] * 10
    placements = [f"{n}:{v}" for n, v in zip(range(1, 7), [-1, -1, 0, 0, 1, 1], strict=True)]
    assert client.post(f"/p/{participant.token}/submit/", {"placement": placements}).status_code == 302
    assert participant.sorts.count() == 1


def test_while_redis_is_down_sign_in_works_and_the_cache_answers_as_empty(redis_down, owner):
    from django.core.cache import cache

    client = Client(REMOTE_ADDR="203.0.113.7", raise_request_exception=False)
    signed_in = client.post("/accounts/login/", {"username": "owner", "password": "owner-pass-123"})
    assert signed_in.status_code == 302
    cache.set("key", "value")
    assert cache.get("key", "missing") == "missing"
    assert cache.add("key", "value") is False and cache.get_many(["key"]) == {}


def test_an_open_link_flood_gets_429_after_the_limit_and_stores_no_more(limits, open_study):
    answers = [join(open_study).status_code for _ in range(8)]
    assert answers == [302] * 5 + [429] * 3
    assert Participant.objects.filter(study=open_study).count() == 5
    refused = join(open_study)
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert "Too many requests came from your network" in refused.content.decode()
    assert refused["Content-Type"].startswith("text/html")


def test_the_limit_is_per_address(limits, open_study):
    for _ in range(5):
        join(open_study, "203.0.113.7")
    assert join(open_study, "203.0.113.7").status_code == 429
    assert join(open_study, "198.51.100.9").status_code == 302


def test_a_forged_forwarded_for_does_not_escape_the_limit_without_a_proxy(limits, open_study):
    limits.BEHIND_PROXY = False
    answers = [join(open_study, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code for i in range(7)]
    assert answers.count(429) == 2


def test_behind_the_proxy_the_address_the_proxy_saw_counts(limits, open_study):
    limits.BEHIND_PROXY = True
    # The proxy appends the address it saw; what the client put before it is ignored.
    for i in range(5):
        join(open_study, "10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.2.3.{i}, 203.0.113.7")
    assert join(open_study, "10.0.0.2", HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.7").status_code == 429
    assert join(open_study, "10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 302


def test_autosave_over_the_limit_gets_a_json_429(limits, study):
    participant = study.invite(1)[0]
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.post(f"/p/{participant.token}/consent/", {"choice": "agree"})
    answers = [
        client.post(f"/p/{participant.token}/save/", {"version": i + 1}, content_type="application/json")
        for i in range(8)
    ]
    assert [a.status_code for a in answers][:7] == [200] * 7
    assert answers[-1].status_code == 429
    assert "Nothing you already saved is lost" in answers[-1].json()["error"]
    assert answers[-1]["Retry-After"]


def test_the_api_submit_is_limited_with_a_json_429(limits, study):
    participant = study.invite(1)[0]
    client = APIClient(REMOTE_ADDR="203.0.113.7")
    answers = [client.post(f"/api/participate/{participant.token}/sort/", {}, format="json") for _ in range(9)]
    assert [a.status_code for a in answers][:8] == [409] * 8  # not consented: refused, yet counted
    assert answers[8].status_code == 429 and answers[8]["Retry-After"]
    assert "detail" in answers[8].json()


def test_sign_in_is_limited_per_address(limits, owner):
    client = Client(REMOTE_ADDR="203.0.113.7")
    answers = [
        client.post("/accounts/login/", {"username": f"nobody{i}", "password": "wrong"}).status_code for i in range(7)
    ]
    assert answers == [200] * 6 + [429]
    assert (
        Client(REMOTE_ADDR="203.0.113.7").post("/admin/login/", {"username": "x", "password": "y"}).status_code == 429
    )


def test_a_username_is_locked_out_after_five_wrong_passwords_even_with_the_right_one(limits, owner):
    limits.QSORT_RATE_LIMITS = {**limits.QSORT_RATE_LIMITS, "login": "100/h"}
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(4):
        assert client.post("/accounts/login/", {"username": "owner", "password": "wrong"}).status_code == 200
    # The fifth failure locks the account out for this address...
    assert client.post("/accounts/login/", {"username": "owner", "password": "wrong"}).status_code == 429
    # ...so the right password is refused too, until the cool-off ends.
    locked = client.post("/accounts/login/", {"username": "owner", "password": "owner-pass-123"})
    assert locked.status_code == 429
    assert "Sign-in paused" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address is not locked out of the same account.
    other = Client(REMOTE_ADDR="198.51.100.9")
    assert other.post("/accounts/login/", {"username": "owner", "password": "owner-pass-123"}).status_code == 302


def test_api_token_attempts_are_limited_and_locked_out(limits, owner):
    limits.QSORT_RATE_LIMITS = {**limits.QSORT_RATE_LIMITS, "login": "100/h"}
    client = APIClient(REMOTE_ADDR="203.0.113.7")
    for _ in range(4):
        assert client.post("/api/token/", {"username": "owner", "password": "wrong"}).status_code == 400
    assert client.post("/api/token/", {"username": "owner", "password": "wrong"}).status_code == 429
    locked = client.post("/api/token/", {"username": "owner", "password": "owner-pass-123"})
    assert locked.status_code == 429
    assert not AuthToken.objects.filter(user=owner).exists()


def test_api_token_requests_are_rate_limited(limits, owner):
    client = APIClient(REMOTE_ADDR="203.0.113.7")
    answers = [client.post("/api/token/", {"username": f"u{i}", "password": "x"}).status_code for i in range(7)]
    assert answers == [400] * 6 + [429]


def test_an_api_token_expires_is_stored_hashed_and_dies_with_a_password_change(owner):
    response = APIClient().post("/api/token/", {"username": "owner", "password": "owner-pass-123"})
    assert response.status_code == 200
    token = response.json()["token"]
    assert response.json()["expiry"]
    stored = AuthToken.objects.get(user=owner)
    assert token not in (stored.digest, stored.token_key) and len(stored.digest) == 128
    assert stored.expiry - timezone.now() > timedelta(days=29)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/studies/").status_code == 200
    AuthToken.objects.filter(pk=stored.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/studies/").status_code == 401

    token = APIClient().post("/api/token/", {"username": "owner", "password": "owner-pass-123"}).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/studies/").status_code == 200
    user = get_user_model().objects.get(pk=owner.pk)
    user.set_password("a-new-password-456")
    user.save()
    assert client.get("/api/studies/").status_code == 401
