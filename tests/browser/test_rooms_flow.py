"""A focus group in the room, in headless Chromium: the facilitator opens a session of four seats,
four phones join through its link (a fifth is refused), the room screen follows them without a
reload, the discussion board stays shut until three sorts are done and then shows what the group
agrees and splits on, as worked out by hand. Then a printed interview guide."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import expect

from qsort.analysis.group import group_summary
from qsort.participate import services as flow
from qsort.rooms.models import Session
from qsort.studies.models import Participant
from qsort.studies.services import submit_sort
from tests.browser.conftest import keep_file, login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
# Four sorts of the six-statement study (grid -1..+1, two cards a column), in seat order.
SORTS = [
    {1: 1, 2: 1, 3: 0, 4: 0, 5: -1, 6: -1},
    {1: 1, 2: 0, 3: 1, 4: -1, 5: 0, 6: -1},
    {1: 1, 2: -1, 3: 0, 4: 1, 5: 0, 6: -1},
    {1: 0, 2: 1, 3: -1, 4: 0, 5: 1, 6: -1},
]


def joined_participant(phone) -> Participant:
    token = re.search(r"/p/([^/]+)/", phone.url).group(1)
    return Participant.objects.get(token=token)


def test_a_focus_group_joins_sorts_and_discusses_on_the_room_screen(browser, live_server, page, study, facilitator):
    login(page, "facil", "facil-pass-123")
    page.goto("/studies/tiny/sessions/")
    page.get_by_label("Name").fill("Focus group 2, Tuesday 14:00")
    page.get_by_label("Seats").fill("4")
    page.get_by_role("button", name="Create session").click()
    session = Session.objects.get()
    expect(page).to_have_url(f"/studies/tiny/sessions/{session.pk}/")

    page.set_viewport_size({"width": 1920, "height": 1080})
    page.get_by_role("link", name="Open the room screen").click()
    qr = page.get_by_role("img", name="QR code of the join link")
    expect(qr).to_be_visible()
    # The SVG really is an image: it loads and has a size (waits for the download, not a fixed time).
    page.wait_for_function("img => img.complete && img.naturalWidth > 100", arg=qr.element_handle())
    expect(page.locator(".room-link-code")).to_have_text(session.join_token)
    expect(page.get_by_role("button", name="Show the discussion board")).to_be_disabled()
    page.evaluate("window.stillTheSamePage = true")
    screenshot(page, "rooms-room-progress-1920")

    contexts = [browser.new_context(base_url=live_server.url, **PHONE) for _ in range(5)]
    phones, people = [], []
    for context in contexts[:4]:
        phone = context.new_page()
        phone.goto(session.join_url.removeprefix("http://127.0.0.1:8000"))
        phone.get_by_role("button", name="I agree, let's start").click()
        expect(phone).to_have_url(re.compile(r"/p/[^/]+/$"))
        phones.append(phone)
        people.append(joined_participant(phone))
    assert [p.seat.number for p in people] == [1, 2, 3, 4]

    late = contexts[4].new_page()
    late.goto(session.join_url.removeprefix("http://127.0.0.1:8000"))
    expect(late.get_by_text("Every seat of this session is taken")).to_be_visible()
    assert Participant.objects.count() == 4

    # The room follows each seat without a reload.
    seat = page.locator(".seat", has_text="Seat 4")
    expect(seat).to_contain_text("Consented")
    flow.go_to(people[3], Participant.Stage.PRESORT)
    flow.save_draft(people[3], {**flow.empty_state(), "version": 1, "presort": [[1, "agree"], [2, "disagree"]]})
    expect(seat).to_contain_text("2 of 6")

    for person, values in zip(people[:2], SORTS[:2], strict=True):
        submit_sort(person, values.items())
    expect(page.get_by_role("heading", name="2 of 4 finished")).to_be_visible()
    expect(page.get_by_role("button", name="Show the discussion board")).to_be_disabled()
    expect(page.get_by_text("at least 3 people have finished")).to_be_visible()
    assert page.evaluate("window.stillTheSamePage"), "the room screen updates without reloading"

    submit_sort(people[2], SORTS[2].items())
    board_button = page.get_by_role("button", name="Show the discussion board")
    expect(board_button).to_be_enabled()
    board_button.click()
    expect(page.get_by_role("heading", name="We agree most")).to_be_visible()
    expect(page.get_by_text("picture from 3 finished sorts")).to_be_visible()

    submit_sort(people[3], SORTS[3].items())
    expect(page.get_by_text("picture from 4 finished sorts")).to_be_visible()

    texts = dict(study.statements.values_list("number", "text"))
    by_hand = group_summary(np.array([[s[n] for s in SORTS] for n in range(1, 7)]), [-1, 0, 1])
    agree = page.locator(".board-list.agree li .board-text").all_inner_texts()
    split = page.locator(".board-list.split li .board-text").all_inner_texts()
    assert agree == [texts[i + 1] for i in by_hand.agree_most]
    assert split == [texts[i + 1] for i in by_hand.split]
    # The hand computation itself: means 3/4, 1/4, 1/4, 0, 1/4, -1 ...
    assert agree[0] == texts[1] and texts[6] not in split
    for person in people:
        assert person.token not in page.content()
    screenshot(page, "rooms-room-board-1920")

    # The interview guide of seat 1, printed to PDF as a facilitator would.
    page.goto(f"/studies/tiny/participants/{people[0].pk}/guide/")
    expect(page.get_by_role("heading", name=f"Interview guide: {people[0].label}")).to_be_visible()
    expect(page.get_by_text("the group mean of Focus group 2, Tuesday 14:00")).to_be_visible()
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 1
    screenshot(page, "rooms-guide-print")

    keep_file("rooms-guide-print.pdf", pdf)
    for context in contexts:
        context.close()
