"""Live pages: the browser's htmx WebSocket receives out-of-band swaps of the same partials the
page rendered first. Consumers only forward and render; after connecting they touch the database
only to re-check their session (``wbm.accounts.sockets``)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, ClassVar

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from wbm.access import required_perm
from wbm.accounts.sockets import (
    SESSION_ENDED_CLOSE_CODE,
    session_group,
    session_still_grants,
    socket_perms,
    user_group,
)
from wbm.dashboard.cards import card_key, render_card
from wbm.roles import Perm
from wbm.runtime.bus import PARK_GROUP, read_snapshot
from wbm.runtime.snapshot import ChargePointState, ParkSummary

log = logging.getLogger(__name__)


def _language(scope: dict[str, Any]) -> str:
    """The page's language, chosen as LocaleMiddleware chose it: the cookie, else Accept-Language."""
    lang = (scope.get("cookies") or {}).get(settings.LANGUAGE_COOKIE_NAME, "")
    if lang in dict(settings.LANGUAGES):
        return lang
    accept = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
    for code, _q in parse_accept_lang_header(accept):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


class LiveConsumer(AsyncWebsocketConsumer):
    """Base: checks the role, joins groups, sends a full picture on connect and a heartbeat
    with every update so the page can tell when it is stale.

    Deny by default, as ``RoleRequiredMixin`` for views: a consumer that declares no
    ``required`` permission refuses every connection (4403) and logs it as a programming error.
    An account still on its default password is a Guest here (``socket_perms``). A logged-in
    socket ends with its session: it joins its session's and its account's groups, which logout
    and a password change close, and re-checks the session every ``WBM_SOCKET_RECHECK_S``
    seconds (expiry, account disabled, role changed); it closes with 4401.
    """

    required: ClassVar[Perm]  # no default: every consumer says what it needs
    groups_to_join: tuple[str, ...] = (PARK_GROUP,)

    async def connect(self) -> None:
        try:
            required = required_perm(self, "GET")  # the WebSocket handshake is a GET
        except ImproperlyConfigured as exc:
            log.error("programming error: %s, so it refuses every connection", exc)
            await self.close(code=4403)
            return
        user = self.scope.get("user")
        self.can = await database_sync_to_async(socket_perms)(user)
        if required.value not in self.can:
            await self.close(code=4403)
            return
        self.language = _language(self.scope)
        session = self.scope.get("session")
        session_key = getattr(session, "session_key", None)
        user_id = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
        self.session_groups: tuple[str, ...] = ()
        if session_key and user_id is not None:
            self.session_groups = (session_group(session_key), user_group(user_id))
        for group in (*self.groups_to_join, *self.session_groups):
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        if session_key and user_id is not None:
            self._recheck = asyncio.create_task(self._recheck_session(session_key, user_id))
        await self.send_full()

    async def disconnect(self, code: int) -> None:
        recheck: asyncio.Task[None] | None = getattr(self, "_recheck", None)
        if recheck is not None:
            recheck.cancel()
        for group in (*self.groups_to_join, *getattr(self, "session_groups", ())):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def session_ended(self, event: dict[str, Any]) -> None:
        """The session logged out or the account's password changed: stop streaming."""
        await self.close(code=SESSION_ENDED_CLOSE_CODE)

    async def _recheck_session(self, session_key: str, user_id: int) -> None:
        """Close once the session no longer grants what this socket was opened with."""
        check = database_sync_to_async(session_still_grants)
        while True:
            await asyncio.sleep(settings.WBM_SOCKET_RECHECK_S)
            try:
                still = await check(session_key=session_key, user_id=user_id, can=self.can)
            except Exception:  # fail closed: a socket whose session cannot be checked stops
                log.exception("could not re-check the session of a live socket; closing it")
                still = False
            if not still:
                await self.close(code=SESSION_ENDED_CLOSE_CODE)
                return

    def render(self, template: str, context: dict[str, Any]) -> str:
        with translation.override(self.language):
            return render_to_string(template, {"can": self.can, "oob": True, **context})

    def heartbeat(self, generated_at: float) -> str:
        return self.render("components/live_heartbeat.html", {"generated_at": generated_at, "now": time.time()})

    async def send_full(self) -> None:
        """Send the whole picture this page shows (subclasses)."""

    async def park_update(self, event: dict[str, Any]) -> None:
        pass

    async def system_update(self, event: dict[str, Any]) -> None:
        pass


class DashboardConsumer(LiveConsumer):
    required = Perm.DASHBOARD_VIEW

    async def send_full(self) -> None:
        snapshot = read_snapshot()
        if snapshot is None:
            return
        # what each card on the client shows, so an update sends only cards that look different
        self.shown = {cp.id: card_key(cp) for cp in snapshot.configured}
        html = [self.render("dashboard/index.html#summary", {"summary": snapshot.summary})]
        html.append(self.render("dashboard/index.html#cards", {"cps": snapshot.configured}))
        html.append(self.heartbeat(snapshot.generated_at))
        await self.send(text_data="".join(html))

    async def park_update(self, event: dict[str, Any]) -> None:
        if not hasattr(self, "shown"):
            await self.send_full()
            return
        html = [self.render("dashboard/index.html#summary", {"summary": ParkSummary(**event["summary"])})]
        for data in event["changed"]:
            cp = ChargePointState.from_dict(data)
            if cp.configured:
                key = card_key(cp)
                if self.shown.get(cp.id) == key:
                    continue  # only what a card does not show changed (the mains voltages)
                swap = "true" if cp.id in self.shown else "beforeend:#cp-cards"
                self.shown[cp.id] = key
                with translation.override(self.language):
                    html.append(render_card(cp, can=self.can, swap=swap))
            elif cp.id in self.shown:
                del self.shown[cp.id]
                html.append(f'<div id="cp-{cp.id}" hx-swap-oob="delete"></div>')
        html.append(self.heartbeat(event["generated_at"]))
        await self.send(text_data="".join(html))
