"""Import previews live in temporary storage with an expiry, not in the session; request bodies
over the limits are refused from their declared size, before anything reads them."""

from __future__ import annotations

import io

import pytest
import redis
from django.contrib.sessions.models import Session
from django.core.cache import cache

from qsort.exchange import views as exchange_views

pytestmark = pytest.mark.django_db

CSV = "statement_id,P01\n" + "".join(f"{n},{v}\n" for n, v in zip(range(1, 7), [-1, -1, 0, 0, 1, 1], strict=True))


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def big_post(client, path: str, size: int):
    return client.generic(
        "POST", path, b"", CONTENT_TYPE="multipart/form-data; boundary=x", CONTENT_LENGTH=str(size),
        **{"wsgi.input": Unreadable()},
    )  # fmt: skip


def test_an_anonymous_100_mb_body_is_refused_before_it_is_read(client, study):
    for path in ("/studies/tiny/data/import/sorts/", "/accounts/login/", f"/s/{study.slug}/", "/api/token/"):
        response = big_post(client, path, 100 * 1024 * 1024)
        assert response.status_code == 413, path
        assert "larger than" in response.content.decode()


def test_a_participants_autosave_over_the_limit_gets_json(client, study):
    participant = study.invite(1)[0]
    response = client.generic(
        "POST", f"/p/{participant.token}/save/", b"", CONTENT_TYPE="application/json",
        CONTENT_LENGTH=str(3 * 1024 * 1024), **{"wsgi.input": Unreadable()},
    )  # fmt: skip
    assert response.status_code == 413 and "larger than" in response.json()["error"]


def test_signed_in_staff_may_send_an_import_sized_body_but_not_more(client, owner, settings):
    client.force_login(owner)
    assert big_post(client, "/studies/tiny/data/import/sorts/", 120 * 1024 * 1024).status_code == 413
    limit = settings.QSORT_MAX_REQUEST_BYTES
    assert limit > 2 * settings.QSORT_MAX_UPLOAD_BYTES and limit > settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_an_import_preview_is_kept_in_the_cache_and_the_session_holds_only_a_reference(client, owner, study, settings):
    client.force_login(owner)
    upload = io.BytesIO(CSV.encode())
    upload.name = "deck.csv"
    response = client.post(f"/studies/{study.slug}/data/import/sorts/", {"file": upload})
    assert response.status_code == 200
    session = Session.objects.get().get_decoded()
    references = [value for key, value in session.items() if key.startswith("exchange:")]
    assert len(references) == 1 and isinstance(references[0], str) and len(references[0]) < 40
    assert len(Session.objects.get().session_data) < 2000
    stored = cache.get(f"qsort:import-preview:{owner.pk}:{references[0]}")
    assert stored and CSV.encode() in stored.values()
    key = cache.make_key(f"qsort:import-preview:{owner.pk}:{references[0]}")
    assert 0 < redis.Redis.from_url(settings.REDIS_URL).ttl(key) <= exchange_views.PREVIEW_SECONDS


def test_an_expired_preview_asks_for_the_file_again(client, owner, study):
    client.force_login(owner)
    upload = io.BytesIO(CSV.encode())
    upload.name = "deck.csv"
    client.post(f"/studies/{study.slug}/data/import/sorts/", {"file": upload})
    reference = next(value for key, value in client.session.items() if key.startswith("exchange:"))
    cache.delete(f"qsort:import-preview:{owner.pk}:{reference}")
    response = client.post(f"/studies/{study.slug}/data/import/sorts/confirm/")
    assert "The preview has expired; please choose the file again." in response.content.decode()
