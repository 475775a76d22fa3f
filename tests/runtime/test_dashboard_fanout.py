"""The dashboard's fan-out (issue 13): one frame per role and language for every socket, values
that tick as compact updates, whole cards only when their structure changes, the whole picture
for a late or a lagging page, and never a higher role's data in a Guest's frame."""

from __future__ import annotations

import asyncio
import html
import json
import re
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import translation

from tests.conftest import cp_id, execute_wire, make_user, session_cookie
from tests.conftest import settle as settle_forever
from wbm.asgi import application
from wbm.dashboard.cards import live_texts, render_card
from wbm.roles import Role, allowed_perms
from wbm.runtime.bus import require_snapshot

HOST = "testserver"
SAME_ORIGIN = [(b"origin", b"http://testserver"), (b"host", HOST.encode())]
GERMAN = [(b"accept-language", b"de")]

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def connect(*headers: tuple[bytes, bytes]) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/dashboard/", headers=[*SAME_ORIGIN, *headers])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def as_role(role: Role, *headers: tuple[bytes, bytes]) -> WebsocketCommunicator:
    if role == Role.GUEST:
        return await connect(*headers)
    cookie = await database_sync_to_async(session_cookie)(role)
    return await connect(*cookie, *headers)


def values_of(frame: str) -> dict[str, Any]:
    """The compact values the frame's heartbeat carries ({} when none)."""
    match = re.search(r"data-v='([^']*)'", frame)
    return json.loads(html.unescape(match.group(1))) if match else {}


def seq_of(frame: str) -> int:
    match = re.search(r'id="live-heartbeat"[^>]*data-seq="(\d+)"', frame)
    assert match, frame[-400:]
    return int(match.group(1))


async def next_update(communicator: WebsocketCommunicator, pattern: str = "data-seq=") -> str:
    """The next frame of a publish (a heartbeat with a sequence number) that matches ``pattern``."""
    while True:
        frame = await communicator.receive_from(timeout=5)
        if "data-seq=" in frame and re.search(pattern, frame):
            return frame


async def settle(runtime: Any) -> None:
    """One tick published (a failing tick fails the test instead of hanging it)."""
    async with asyncio.timeout(10):
        await settle_forever(runtime)


def charging(target: int) -> str:
    return rf'<article id="cp-{target}"[^>]*data-status="charging"'


async def plug_in(runtime: Any, name: str) -> int:
    target = await database_sync_to_async(cp_id)(name)
    result = await execute_wire(
        runtime, "sim.plug_in", {"cp": target, "phases": 3, "max_current_a": 16, "ventilation": False}
    )
    assert result["ok"], result
    return target


async def test_sockets_of_one_role_and_language_get_the_same_bytes(live_runtime):
    first, second, german = await connect(), await connect(), await connect(*GERMAN)
    try:
        for communicator in (first, second, german):
            await communicator.receive_from(timeout=5)  # the whole picture
        target = await plug_in(live_runtime, "P1-02")
        a = await next_update(first, charging(target))  # the status changed: the whole card
        b = await next_update(second, charging(target))
        de = await next_update(german, charging(target))
        assert a == b
        assert de != a and "Lädt" in de
    finally:
        for communicator in (first, second, german):
            await communicator.disconnect()


async def test_ticking_values_travel_as_compact_updates_not_as_cards(live_runtime):
    communicator = await connect()
    try:
        await communicator.receive_from(timeout=5)
        target = await plug_in(live_runtime, "P1-02")
        await next_update(communicator, charging(target))
        live_runtime.clock.advance(30)
        await settle(live_runtime)
        frame = await next_update(communicator)
        while str(target) not in values_of(frame).get("c", {}):
            frame = await next_update(communicator)
        assert "<article" not in frame  # nothing but values changed
        entry = values_of(frame)["c"][str(target)]
        cp = require_snapshot().chargepoint(target)
        assert cp is not None
        with translation.override("en"):
            assert entry["e"] == live_texts(cp)[1]
        assert len(frame) < 1000
    finally:
        await communicator.disconnect()


async def test_a_late_browser_gets_the_whole_picture_as_it_is_now(live_runtime):
    early = await connect()
    try:
        await early.receive_from(timeout=5)
        target = await plug_in(live_runtime, "P1-02")
        await next_update(early, charging(target))
        late = await connect()
        try:
            frame = await late.receive_from(timeout=5)
            assert frame.count('<article id="cp-') == 4
            assert re.search(rf'<article id="cp-{target}"[^>]*data-status="charging"', frame)
            assert 'data-testid="sum-charging">1<' in frame
            assert 'id="live-heartbeat"' in frame and "data-seq=" in frame
        finally:
            await late.disconnect()
    finally:
        await early.disconnect()


async def test_a_page_that_missed_a_frame_gets_the_whole_picture_when_it_asks(live_runtime):
    communicator = await connect()
    try:
        full = await communicator.receive_from(timeout=5)
        target = await plug_in(live_runtime, "P1-02")
        missed = await next_update(communicator, charging(target))  # as if it never arrived
        assert seq_of(missed) > seq_of(full)
        await communicator.send_to(text_data=json.dumps({"resync": seq_of(missed)}))
        frame = await communicator.receive_from(timeout=5)
        while "park-summary" not in frame:
            frame = await communicator.receive_from(timeout=5)
        assert re.search(rf'<article id="cp-{target}"[^>]*data-status="charging"', frame)
        assert seq_of(frame) >= seq_of(missed)
    finally:
        await communicator.disconnect()


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.label)
async def test_compact_values_and_whole_cards_agree(live_runtime, role, language):
    """What a card shows in its values is what the compact update of the same state says, in
    every role and language."""
    headers = GERMAN if language == "de" else []
    communicator = await as_role(role, *headers)
    try:
        await communicator.receive_from(timeout=5)
        target = await plug_in(live_runtime, "P1-02")
        await next_update(communicator, charging(target))
        live_runtime.clock.advance(30)
        await settle(live_runtime)
        frame = await next_update(communicator)
        while str(target) not in values_of(frame).get("c", {}):
            frame = await next_update(communicator)
        entry = values_of(frame)["c"][str(target)]
        cp = require_snapshot().chargepoint(target)
        user = None
        if role != Role.GUEST:
            user = await database_sync_to_async(make_user)(role)
        can = await database_sync_to_async(allowed_perms)(user)
        assert cp is not None
        with translation.override(language):
            card = render_card(cp, can=can, generated_at=1.0)
            power = entry.get("p", live_texts(cp)[0])
        shown = dict(re.findall(r'data-live="(\w+)"[^>]*>([^<]*)<', card))
        assert shown["power"] == html.escape(power)
        assert shown["energy"] == html.escape(entry["e"])
    finally:
        await communicator.disconnect()


async def test_a_guests_frames_never_carry_what_only_a_higher_role_sees(live_runtime):
    guest = await connect()
    maker = await as_role(Role.MANUFACTURER)
    try:
        await guest.receive_from(timeout=5)
        full = await maker.receive_from(timeout=5)
        assert "park-summary" in full
        target = await plug_in(live_runtime, "P1-01")  # released from the dashboard: buttons
        maker_frame = await next_update(maker, 'name="allow"')
        if f"session-link-{target}" not in maker_frame:  # the session may open a tick later
            await next_update(maker, f"session-link-{target}")
        guest_frame = await next_update(guest, rf'<article id="cp-{target}"')
        frames = [guest_frame, await communicator_full(guest)]
        for frame in frames:
            assert 'name="allow"' not in frame
            assert "session-link-" not in frame
            assert "/chargepoints/" not in frame  # no operation URL of a higher role
            for entry in values_of(frame).get("c", {}).values():
                assert set(entry) <= {"p", "e", "c", "u"}  # what a Guest's card shows too
    finally:
        await guest.disconnect()
        await maker.disconnect()


async def communicator_full(communicator: WebsocketCommunicator) -> str:
    await communicator.send_to(text_data=json.dumps({"resync": 0}))
    while True:
        frame = await communicator.receive_from(timeout=5)
        if "park-summary" in frame:
            return frame
