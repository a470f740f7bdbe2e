"""No participant token in any log line: Django's handlers and gunicorn's access and error logs
both pass every record through qsort.security.logs.RedactTokens. Each test prints how many log
lines it scanned."""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client

from qsort.participate import services as participate
from qsort.security.logs import RedactTokens, redact
from qsort.studies.models import Participant
from tests.conftest import make_study

REPO = Path(__file__).resolve().parents[1]
SORT = {1: -1, 2: -1, 3: 0, 4: 0, 5: 1, 6: 1}


def test_the_filter_hides_tokens_in_messages_arguments_and_tracebacks():
    record = logging.LogRecord("x", logging.ERROR, "f", 1, "Not Found: %s", ("/p/SECRETTOKEN/save/",), None)
    try:
        raise ValueError("bad /api/participate/SECRETTOKEN/sort/")
    except ValueError:
        record.exc_info = sys.exc_info()
    RedactTokens().filter(record)
    assert record.getMessage() == "Not Found: /p/[token]/save/"
    assert "SECRETTOKEN" not in record.exc_text and "/api/participate/[token]/sort/" in record.exc_text
    assert redact('"GET /p/abc_DEF-123/ HTTP/1.1" 200 "http://h/p/abc_DEF-123/step/"') == (
        '"GET /p/[token]/ HTTP/1.1" 200 "http://h/p/[token]/step/"'
    )


@pytest.fixture
def captured():
    """What our configured handlers write, for the length of a test."""
    buffer = io.StringIO()
    ours = {}
    for name in ("", "django.server"):
        found = [h for h in logging.getLogger(name).handlers if any(isinstance(f, RedactTokens) for f in h.filters)]
        assert found, f"logger {name!r} has no token-free handler"
        ours.update((id(h), h) for h in found)
    handlers = list(ours.values())
    old = [handler.setStream(buffer) for handler in handlers]
    yield buffer
    for handler, stream in zip(handlers, old, strict=True):
        handler.setStream(stream)


def scan(text: str, tokens: list[str], what: str) -> None:
    lines = text.splitlines()
    leaked = [line for line in lines if any(token in line for token in tokens)]
    print(f"\n[logs] {what}: {len(lines)} log lines scanned, {len(leaked)} with a token")
    assert not leaked
    assert lines  # the flow did log (404s, 409s, the 500)


@pytest.mark.django_db
def test_a_full_participant_flow_and_its_errors_log_no_token(captured, owner, monkeypatch, capsys):
    study = make_study(owner, slug="open", open_link_enabled=True)
    client = Client(raise_request_exception=False)
    client.post("/s/open/", {"choice": "agree"})
    participant = Participant.objects.get(study=study)
    token = participant.token
    base = f"/p/{token}/"
    client.get(base)
    client.post(base + "step/", {"to": "presort"})
    client.post(base + "save/", '{"version": 1, "presort": [[1, "agree"]]}', content_type="application/json")
    client.post(base + "save/", '{"version": 1}', content_type="application/json")  # 409 stale
    client.post(base + "save/", "[[[", content_type="application/json")  # 400
    client.post(base + "step/", {"to": "review"})  # refused
    Participant.objects.filter(pk=participant.pk).update(stage="review")
    client.post(base + "submit/", {"placement": [f"{n}:{v}" for n, v in SORT.items()]})
    client.get(base)
    client.post(base + "submit/", {"placement": ["1:1"]})  # 409: already complete
    client.get(f"/p/{token}x/")  # 404 of a near-miss token
    client.get(f"/p/{token}/nothing-here/")  # 404 from the URL resolver
    other = study.invite(1)[0]
    api = Client(raise_request_exception=False)
    api.post(f"/api/participate/{other.token}/sort/", "{}", content_type="application/json")  # 409 no consent
    participate.consent(other)
    api.post(f"/api/participate/{other.token}/sort/", '{"values": {"1": 9}}', content_type="application/json")
    monkeypatch.setattr("qsort.participate.services.save_draft", lambda *a: 1 / 0)
    client.post(f"/p/{other.token}/save/", '{"version": 3}', content_type="application/json")  # a 500
    logging.getLogger("django.server").info('"GET /p/%s/ HTTP/1.1" 200 12', other.token)  # runserver's line
    with capsys.disabled():
        scan(captured.getvalue(), [token, other.token], "Django handlers, full flow with 4xx and a 500")
    assert "ZeroDivisionError" in captured.getvalue() and "/p/[token]/save/" in captured.getvalue()


# --- a real gunicorn on loopback ----------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    """gunicorn with the production config (gunicorn.conf.py), two workers, on the test database."""
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": settings.DATABASE_URL.rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"],
        "SECRET_KEY": secrets.token_urlsafe(50),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "DEBUG": "0",
        "SECURE_HTTPS": "0",
        "BEHIND_PROXY": "1",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "RATE_LIMIT_OPEN_LINK": "10/h",
        "WHITENOISE_USE_FINDERS": "1",
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], cwd=REPO, env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                requests.get(base + "/healthz", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.2)
        yield base, log
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_gunicorn_logs_no_token_and_its_workers_share_the_rate_limit(gunicorn, owner, capsys):
    base, log = gunicorn
    make_study(owner, slug="open", open_link_enabled=True, open_link_cap=100)
    # Behind the proxy the client address is the last X-Forwarded-For entry: one of our own per
    # run, so this run's counts start at zero.
    address = f"2001:db8:{uuid.uuid4().hex[:4]}::7"
    session = requests.Session()
    session.headers["X-Forwarded-For"] = address
    page = session.get(base + "/s/open/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    joined = session.post(base + "/s/open/", {"choice": "agree", "csrfmiddlewaretoken": csrf}, allow_redirects=False)
    assert joined.status_code == 302
    url = joined.headers["Location"]
    token = url.strip("/").split("/")[-1]
    page_url = base + url if url.startswith("/") else url
    session.get(page_url, headers={"Referer": page_url})
    headers = {"X-CSRFToken": csrf, "Referer": page_url}
    session.post(page_url + "step/", {"to": "presort"}, headers=headers, allow_redirects=False)
    session.post(page_url + "save/", data='{"version": 1}', headers={**headers, "Content-Type": "application/json"})
    session.post(page_url + "save/", data="[", headers={**headers, "Content-Type": "application/json"})
    session.get(base + "/static/css/qsort.css", headers={"Referer": page_url})
    session.get(base + f"/p/{token}zz/")
    requests.post(base + f"/api/participate/{token}/sort/", json={"values": {"²": 1}}, timeout=10)

    # A flood from one address, spread over both workers by the kernel: 10 are let in (one was above).
    started = time.monotonic()
    answers = []
    for _ in range(30):
        fresh = requests.Session()
        fresh.headers["X-Forwarded-For"] = address
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', fresh.get(base + "/s/open/").text).group(1)
        answers.append(
            fresh.post(base + "/s/open/", {"choice": "agree", "csrfmiddlewaretoken": csrf}, allow_redirects=False)
        )
    elapsed = time.monotonic() - started
    codes = [a.status_code for a in answers]
    accepted = codes.index(429)
    time.sleep(0.5)  # let the access log flush
    text = log.read_text()
    tokens = [token, *[a.headers["Location"].strip("/").split("/")[-1] for a in answers if a.status_code == 302]]
    with capsys.disabled():
        print(
            f"\n[limits] open link flood through 2 gunicorn workers: {accepted} of {len(codes)} accepted, then 429; "
            f"{len(codes) / elapsed:.1f} requests/s sent, {accepted / elapsed:.1f} accepted/s before 429"
        )
        scan(text, tokens, "gunicorn access and error log")
    assert codes == [302] * 9 + [429] * 21  # both workers counted against one limit (Redis)
    assert '"POST /p/[token]/save/ HTTP/1.1" 400' in text
    assert "/p/[token]/" in text and address not in text  # no client address either (README)
