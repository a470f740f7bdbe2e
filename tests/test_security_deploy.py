"""Safe deployment: no secret in the image, a real SECRET_KEY and mail backend or no start,
the demo account in development only, compose bound to loopback with restarts and healthchecks,
and the headers every response carries (CSP, no-store)."""

from __future__ import annotations

import fnmatch
import io
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

import qsort.settings as project_settings
from tests.conftest import make_study

REPO = Path(__file__).resolve().parents[1]
REAL_KEY = "Zq3v9-rT_kP2mX8nL5wB7yC4dF6gH1jK0sA2eR9tU3iO5pQ7zW"
PRODUCTION = {
    "DEBUG": "0",
    "SECURE_HTTPS": "1",
    "ALLOWED_HOSTS": "qsort.example.org",
    "SITE_URL": "https://qsort.example.org",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "SECRET_KEY": REAL_KEY,
}


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    unset = {"SECRET_KEY", "EMAIL_BACKEND", "DEBUG", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run([sys.executable, *args], cwd=REPO, env={**clean, **env}, capture_output=True, text=True)


def check_deploy(**env: str) -> subprocess.CompletedProcess:
    return run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **{**PRODUCTION, **env})


def placeholder_key() -> str:
    return re.search(r"^SECRET_KEY=(.+)$", (REPO / ".env.example").read_text(), re.M).group(1)


def test_check_deploy_fails_with_the_env_example_placeholder_key():
    result = check_deploy(SECRET_KEY=placeholder_key())
    assert result.returncode != 0 and "qsort.E002" in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"SECRET_KEY": ""}, "qsort.E001"),
        ({"SECRET_KEY": "short-but-secret"}, "qsort.E002"),
        ({"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}, "qsort.E003"),
        ({"CELERY_BROKER_URL": ""}, "qsort.W001"),
    ],
)
def test_check_deploy_names_each_unsafe_value(env, problem):
    result = check_deploy(**env)
    assert result.returncode != 0 and problem in result.stderr + result.stdout


def test_check_deploy_is_clean_with_a_real_key():
    result = check_deploy()
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": placeholder_key()}, "placeholder"),
        ({"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}, "password-reset links"),
    ],
)
def test_the_production_web_server_refuses_to_start(env, message):
    result = run(["-c", "import qsort.wsgi"], **{**PRODUCTION, **env})
    assert result.returncode != 0 and message in result.stderr


def test_the_production_web_server_starts_with_safe_values():
    result = run(["-c", "import qsort.wsgi; print('started')"], **PRODUCTION)
    assert result.returncode == 0 and "started" in result.stdout, result.stderr


def test_the_development_key_file_is_private_and_made_only_in_development(tmp_path, monkeypatch):
    monkeypatch.setattr(project_settings, "BASE_DIR", tmp_path)
    key = project_settings._development_secret_key()
    path = tmp_path / "var" / "secret_key"
    assert len(key) >= 50 and stat.S_IMODE(path.stat().st_mode) == 0o600
    # With DEBUG off and no SECRET_KEY, no file is read or written: each process gets its own key.
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    keys = {
        run(
            ["-c", f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']='qsort.settings'; django.setup(); {code}"],
            DEBUG="0",
        ).stdout
        for _ in range(2)
    }
    assert len(keys) == 2


def dockerignored(path: str) -> bool:
    patterns = [
        line.strip() for line in (REPO / ".dockerignore").read_text().splitlines() if line.strip() and line[0] != "#"
    ]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        if any(fnmatch.fnmatch("/".join(parts[: i + 1]), pattern) for i in range(len(parts))):
            ignored = not negate
    return ignored


@pytest.mark.parametrize(
    "path", [".env", ".env.production", "var/secret_key", "db.sqlite3", ".git/config", ".venv/bin/python"]
)
def test_the_docker_build_context_holds_no_secret(path):
    assert dockerignored(path)


@pytest.mark.parametrize(
    "path", ["manage.py", "qsort/settings.py", "requirements.txt", "gunicorn.conf.py", ".env.example"]
)
def test_the_docker_build_context_keeps_the_code(path):
    assert not dockerignored(path)


def test_compose_binds_web_to_loopback_restarts_and_checks_health():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]
    assert all(service["restart"] == "unless-stopped" for service in services.values())
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])
    assert "gunicorn -c gunicorn.conf.py" in services["web"]["command"]
    assert '"gunicorn", "-c", "gunicorn.conf.py"' in (REPO / "Dockerfile").read_text()


@pytest.mark.django_db
def test_the_health_endpoint_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"


# --- the demo account -----------------------------------------------------------------------
@pytest.mark.django_db
def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG=1"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_seed_demo_makes_an_ordinary_account_with_a_random_password_it_prints(settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    password = re.search(r"password: (\S+)", out.getvalue()).group(1)
    user = get_user_model().objects.get(username="facilitator")
    assert not user.is_superuser and not user.is_staff
    assert password != "qsort-demo-2026" and len(password) >= 12 and user.check_password(password)
    again = io.StringIO()
    call_command("seed_demo", stdout=again)
    assert password not in again.getvalue() and "changepassword" in again.getvalue()


# --- headers on every response -----------------------------------------------------------------
@pytest.mark.django_db
def test_every_kind_of_page_carries_the_content_security_policy(client, owner, stored_run):
    participant = stored_run.study.invite(1)[0]
    client.force_login(owner)
    pages = [
        "/accounts/login/",
        participant.get_absolute_url(),
        "/p/not-a-token/",
        "/studies/",
        f"/studies/{stored_run.study.slug}/",
        f"/studies/{stored_run.study.slug}/results/",
        "/api/studies/",
        "/no-such-page/",
        "/admin/",
    ]
    for page in pages:
        policy = client.get(page)["Content-Security-Policy"]
        for directive in ("default-src 'self'", "object-src 'none'", "frame-ancestors 'none'"):
            assert directive in policy, (page, policy)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    docs = client.get("/api/docs/")["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in docs and "script-src" not in docs  # scripts stay 'self'


@pytest.mark.django_db
def test_staff_pages_api_answers_and_downloads_are_not_stored(client, owner, stored_run):
    client.force_login(owner)
    slug = stored_run.study.slug
    for page in (
        "/studies/",
        f"/studies/{slug}/",
        f"/studies/{slug}/participants/",
        f"/studies/{slug}/data/sorts.csv",
        f"/studies/{slug}/data/runs/{stored_run.pk}/result.json",
        "/api/studies/",
    ):
        response = client.get(page)
        assert response.status_code == 200, page
        assert "no-store" in response["Cache-Control"], page
    assert "no-store" in Client().get(stored_run.study.invite(1)[0].get_absolute_url())["Cache-Control"]


@pytest.mark.django_db
def test_an_open_study_page_works_for_a_phone_without_inline_styles(client, owner):
    make_study(owner, slug="open", open_link_enabled=True)
    html = client.get("/s/open/").content.decode()
    assert "style=" not in html and "<script>" not in html


pytest_plugins = ["tests.api_support"]
