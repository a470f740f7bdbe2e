"""A study in German: its participant pages, the script's texts and the validator speak German,
while an English study in the same browser session stays English."""

from __future__ import annotations

import gettext
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from qsort.participate import services
from qsort.studies.models import Participant, Sort
from tests.conftest import make_study

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.BASE_DIR) / "locale"
# Where participant-facing text lives: every msgid from these files must have a German msgstr.
PARTICIPANT_SOURCES = re.compile(r"participate|studies/validation\.py|studies/services\.py")


@pytest.fixture
def german(owner):
    return make_study(
        owner,
        slug="studie",
        language="de",
        title="Was hilft",
        label_disagree="Gar nicht",
        label_agree="Sehr",
        consent_text="Sie stimmen der Teilnahme zu.",
    )


@pytest.fixture
def english(owner):
    return make_study(owner, slug="study")


def page(client: Client, participant: Participant, **headers) -> str:
    response = client.get(f"/p/{participant.token}/", headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def at_grid(participant: Participant) -> Participant:
    services.consent(participant)
    services.go_to(participant, "presort")
    state = services.empty_state()
    state.update(version=1, presort=[[n, "neutral"] for n in range(1, 7)])
    services.save_draft(participant, state)
    services.go_to(participant, "sorting")
    return participant


def test_the_consent_page_of_a_german_study_is_german(client, german):
    html = page(client, german.invite(1)[0])
    assert '<html lang="de">' in html
    for text in ["Bevor Sie beginnen", "Ich stimme zu und beginne", "Nein danke, nicht teilnehmen", "Ihr Fortschritt"]:
        assert text in html
    assert "Schritt 1 von 6: Willkommen" in html
    for text in ["Before you start", "I agree, let's start", "No thanks, leave", "Step 1 of 6"]:
        assert text not in html


def test_the_instructions_are_german_with_the_right_plural(client, german):
    participant = german.invite(1)[0]
    response = client.post(f"/p/{participant.token}/consent/", {"choice": "agree"})
    assert response.status_code == 302
    html = page(client, participant)
    assert "So geht es" in html and "Schritt 2 von 6: So geht es" in html
    assert "Zuerst sehen Sie die Karten einzeln (6 Karten)" in html
    assert "auf einer Skala von „Gar nicht“ bis „Sehr“." in html
    assert "How it works" not in html and "First you see the cards" not in html


def test_the_grid_page_and_the_scripts_texts_are_german(client, german):
    html = page(client, at_grid(german.invite(1)[0]))
    assert '<html lang="de">' in html
    assert "Noch 6 Karten zu legen." in html
    assert "Fertig: Sortierung prüfen" in html and "Noch zu legende Karten" in html
    assert "Pause machen" in html and "Rückgängig" in html and "Karte vorlesen" in html
    assert "cards still to place" not in html and "check my sort" not in html
    script_text = json.loads(re.search(r'id="qsort-text"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert script_text["left_one"] == "Noch %(left)s Karte zu legen."
    assert script_text["left_other"] == "Noch %(left)s Karten zu legen."
    assert script_text["disagree"] == "Stimme nicht zu"
    assert script_text["placed_short"] == "Gelegt auf %(column)s · %(count)s von %(capacity)s"


def test_a_refused_step_is_explained_in_german(client, german):
    participant = at_grid(german.invite(1)[0])
    response = client.post(f"/p/{participant.token}/step/", {"to": "review"}, follow=True)
    html = response.content.decode()
    assert "Bitte legen Sie zuerst alle Karten in das Raster: noch 6 offen." in html
    participant.refresh_from_db()
    assert participant.stage == "sorting"


def test_an_invalid_submit_gets_german_validator_messages_and_stores_nothing(client, german):
    participant = at_grid(german.invite(1)[0])
    Participant.objects.filter(pk=participant.pk).update(stage="review")
    response = client.post(
        f"/p/{participant.token}/submit/", {"placement": ["1:-1", "1:0", "2:-1", "3:0", "4:0", "9:1"]}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Ihre Sortierung wurde noch nicht gesendet." in html
    assert "Aussage 1 liegt zweimal im Raster." in html
    assert "Aussage 9 ist nicht Teil dieser Studie." in html
    assert "Die Aussagen 5, 6 sind noch nicht eingeordnet." in html
    assert "placed twice" not in html and "not placed yet" not in html
    assert not Sort.objects.filter(participant=participant).exists()
    participant.refresh_from_db()
    assert participant.stage == "review"


def test_an_english_study_stays_english_between_german_requests(client, german, english):
    german_participant = german.invite(1)[0]
    english_participant = english.invite(1)[0]
    assert "Bevor Sie beginnen" in page(client, german_participant)
    html = page(client, english_participant)
    assert '<html lang="en">' in html and "Before you start" in html and "Bevor Sie beginnen" not in html
    assert "Bevor Sie beginnen" in page(client, german_participant)
    # The study's language wins over the browser's: a German browser sees the English study in English.
    html = page(client, english_participant, accept_language="de")
    assert '<html lang="en">' in html and "I agree, let's start" in html


def test_the_open_link_of_a_german_study_is_german(client, owner):
    make_study(owner, slug="offen", language="de", open_link_enabled=True)
    html = client.get("/s/offen/").content.decode()
    assert '<html lang="de">' in html and "Bevor Sie beginnen" in html
    html = client.post("/s/offen/", {"choice": "leave"}).content.decode()
    assert "Sie haben die Studie verlassen" in html and "You have left the study" not in html


def _po_entries(path: Path) -> list[dict]:
    """msgctxt, msgid and msgstr(s) of each entry, with the source references: enough to check
    completeness without a .po library."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"refs": "", "msgstr": []}
        key = None
        for line in block.splitlines():
            if line.startswith("#:"):
                entry["refs"] += line
            elif line.startswith(("msgctxt ", "msgid ", "msgid_plural ", "msgstr")):
                key, _space, literal = line.partition(" ")
                value = json.loads(literal)
                if key.startswith("msgstr"):
                    entry["msgstr"].append(value)
                else:
                    entry[key] = value
            elif line.startswith('"') and key:
                value = json.loads(line)
                if key.startswith("msgstr"):
                    entry["msgstr"][-1] += value
                else:
                    entry[key] += value
        if entry.get("msgid"):
            entries.append(entry)
    return entries


def test_every_participant_facing_text_has_german_and_the_compiled_catalogue_is_current():
    entries = [e for e in _po_entries(LOCALE / "de/LC_MESSAGES/django.po") if PARTICIPANT_SOURCES.search(e["refs"])]
    assert len(entries) > 100
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"])]
    assert untranslated == []
    with (LOCALE / "de/LC_MESSAGES/django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    for entry in entries:
        if "msgid_plural" in entry:
            compiled_text = [catalogue.ngettext(entry["msgid"], entry["msgid_plural"], n) for n in (1, 2)]
        elif "msgctxt" in entry:
            compiled_text = [catalogue.pgettext(entry["msgctxt"], entry["msgid"])]
        else:
            compiled_text = [catalogue.gettext(entry["msgid"])]
        assert compiled_text == entry["msgstr"], f"django.mo is older than django.po for {entry['msgid']!r}"
